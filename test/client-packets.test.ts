import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientError } from '../src/client/errors.ts';
import {
  connIdToSlot,
  decodeServerPacket,
  encodeData,
  encodeDisconnectNotification,
  encodeForwardRequest,
  encodeOnionRequest,
  encodeOobSend,
  encodePing,
  encodePong,
  encodeRoutingRequest,
  PacketId,
  slotToConnId,
} from '../src/client/packets.ts';

const pk = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
const id8 = Uint8Array.of(8, 6, 9, 67, 0, 0, 0, 0);
const cat = (...parts: number[][]) => Uint8Array.from(parts.flat());

function malformed(plaintext: Uint8Array): void {
  try {
    decodeServerPacket(plaintext);
  } catch (error) {
    assert.instance(error, ClientError);
    assert.is((error as ClientError).code, 'MALFORMED_PACKET');
    return;
  }
  assert.unreachable(`accepted [${[...plaintext.subarray(0, 4)]}…] of length ${plaintext.length}`);
}

test('ids match PROTOCOL §4', () => {
  assert.equal(Object.values(PacketId), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.is(slotToConnId(0), 16);
  assert.is(slotToConnId(239), 255);
  assert.is(connIdToSlot(16), 0);
});

test('client encoders lay out id then fields', () => {
  assert.equal(encodeRoutingRequest(pk), cat([0], [...pk]));
  assert.equal(encodeDisconnectNotification(17), cat([3, 17]));
  assert.equal(encodeDisconnectNotification(5), cat([3, 5]), 'invalid ids stay sendable');
  assert.equal(encodePing(id8), cat([4], [...id8]));
  assert.equal(encodePong(id8), cat([5], [...id8]));
  assert.equal(encodeOobSend(pk, Uint8Array.of(1, 2, 3)), cat([6], [...pk], [1, 2, 3]));
  assert.equal(encodeData(16, Uint8Array.of(9)), cat([16, 9]));
  assert.equal(encodeData(255, new Uint8Array(0)), cat([255]));
  assert.equal(encodeOnionRequest(Uint8Array.of(1, 2)), cat([8, 1, 2]));
  assert.equal(encodeForwardRequest(Uint8Array.of(1, 2)), cat([10, 1, 2]));
});

test('client encoders refuse what cannot be laid out', () => {
  assert.throws(() => encodeRoutingRequest(pk.subarray(1)), RangeError);
  assert.throws(() => encodePing(new Uint8Array(9)), RangeError);
  assert.throws(() => encodeData(15, new Uint8Array(1)), RangeError);
  assert.throws(() => encodeData(256, new Uint8Array(1)), RangeError);
  assert.throws(() => encodeDisconnectNotification(-1), RangeError);
  assert.throws(() => encodeOobSend(new Uint8Array(31), new Uint8Array(1)), RangeError);
});

test('decodes every packet a relay sends', () => {
  assert.equal(decodeServerPacket(cat([1, 16], [...pk])), { type: 'routingResponse', connId: 16, publicKey: pk });
  assert.equal(decodeServerPacket(cat([1, 0], [...pk])), { type: 'routingResponse', connId: 0, publicKey: pk });
  assert.equal(decodeServerPacket(cat([2, 255])), { type: 'connectNotification', connId: 255 });
  assert.equal(decodeServerPacket(cat([3, 16])), { type: 'disconnectNotification', connId: 16 });
  assert.equal(decodeServerPacket(cat([4], [...id8])), { type: 'ping', id: id8 });
  assert.equal(decodeServerPacket(cat([5], [0, 0, 0, 0, 0, 0, 0, 0])), { type: 'pong', id: new Uint8Array(8) });
  assert.equal(decodeServerPacket(cat([7], [...pk], [1, 2, 3, 4, 5])), {
    type: 'oob',
    publicKey: pk,
    data: Uint8Array.of(1, 2, 3, 4, 5),
  });
  assert.equal(decodeServerPacket(cat([9, 0x84, 1])), { type: 'onionResponse', data: Uint8Array.of(0x84, 1) });
  assert.equal(decodeServerPacket(cat([11])), { type: 'forwarding', data: new Uint8Array(0) });
  assert.equal(decodeServerPacket(cat([200, 1, 2])), { type: 'data', connId: 200, data: Uint8Array.of(1, 2) });
  assert.equal(decodeServerPacket(cat([16])), { type: 'data', connId: 16, data: new Uint8Array(0) });
});

test('rejects what a relay never sends', () => {
  malformed(new Uint8Array(0));
  for (const id of [0, 6, 8, 10, 12, 13, 14, 15]) malformed(cat([id], [...pk]));
  malformed(cat([1, 16], [...pk.subarray(1)])); // 33
  malformed(cat([1, 16], [...pk], [0])); // 35
  malformed(cat([1, 15], [...pk])); // conn_id 1..15 is neither refused nor a slot
  malformed(cat([2, 16, 0]));
  malformed(cat([2, 15]));
  malformed(cat([3]));
  malformed(cat([3, 0]));
  malformed(cat([4], [...id8], [0]));
  malformed(cat([5, 1, 2]));
  malformed(cat([7], [...pk])); // no data
});

test.run();
