// §4: what the core decides for each packet id.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloseReason } from '../src/core/exports.ts';
import { coreHarness } from './support/core-harness.ts';

const h = await coreHarness({ maxConnections: 8 });
const A = 0xa1, B = 0xb2;
const kill = (slot: number, reason: number) => [{ kind: 'kill', slot, reason }];

test('PING is answered with PONG of the same 8 bytes, priority, even for id 0', () => {
  const a = h.confirmed(A);
  assert.equal(h.packet(a, [4, 8, 6, 9, 0x43, 0, 0, 0, 0]), [{ kind: 'send', slot: a, bytes: [5, 8, 6, 9, 0x43, 0, 0, 0, 0], priority: true }]);
  assert.equal(h.packet(a, [4, 0, 0, 0, 0, 0, 0, 0, 0]), [{ kind: 'send', slot: a, bytes: [5, 0, 0, 0, 0, 0, 0, 0, 0], priority: true }]);
  h.close(a);
});

test('PING or PONG of the wrong length kills', () => {
  for (const bytes of [[4], [4, 1, 2, 3, 4, 5, 6, 7], [4, 1, 2, 3, 4, 5, 6, 7, 8, 9], [5, 1], [5, 1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const a = h.confirmed(A);
    assert.equal(h.packet(a, bytes), kill(a, CloseReason.BAD_PACKET), JSON.stringify(bytes));
  }
});

test('PONG with an all-zero id kills; a non-matching id is ignored', () => {
  const a = h.confirmed(A);
  assert.equal(h.packet(a, [5, 9, 9, 9, 9, 9, 9, 9, 9]), []);
  assert.equal(h.packet(a, [5, 0, 0, 0, 0, 0, 0, 0, 0]), kill(a, CloseReason.BAD_PACKET));
});

test('ROUTING_REQUEST of any length but 33 kills', () => {
  for (const len of [1, 32, 34]) {
    const a = h.confirmed(A);
    assert.equal(h.packet(a, [0, ...new Array(len - 1).fill(B)]), kill(a, CloseReason.BAD_PACKET), `length ${len}`);
  }
});

test('CONNECT_NOTIFICATION from a client: length 2 ignored, others kill', () => {
  const a = h.confirmed(A);
  assert.equal(h.packet(a, [2, 16]), []);
  assert.equal(h.packet(a, [2, 16, 0]), kill(a, CloseReason.BAD_PACKET));
  const b = h.confirmed(B);
  assert.equal(h.packet(b, [2]), kill(b, CloseReason.BAD_PACKET));
});

test('DISCONNECT_NOTIFICATION of length other than 2 kills', () => {
  const a = h.confirmed(A);
  h.routing(a, B);
  assert.equal(h.packet(a, [3, 16, 0]), kill(a, CloseReason.BAD_PACKET));
});

test('server-only ids (1, 7, 9, 11) and reserved ids (12..15) kill', () => {
  for (const id of [1, 7, 9, 11, 12, 13, 14, 15]) {
    const a = h.confirmed(A);
    assert.equal(h.packet(a, [id, ...new Array(40).fill(1)]), kill(a, CloseReason.BAD_PACKET), `id ${id}`);
  }
});

test('OOB to a confirmed key arrives as [7][sender][data], non-priority, no link needed', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  const data = [1, 2, 3, 4, 5];
  assert.equal(h.packet(a, [6, ...h.key(B), ...data]), [{ kind: 'send', slot: b, bytes: [7, ...h.key(A), ...data], priority: false }]);
  // toward oneself too
  assert.equal(h.packet(a, [6, ...h.key(A), 9]), [{ kind: 'send', slot: a, bytes: [7, ...h.key(A), 9], priority: false }]);
  h.close(a); h.close(b);
});

test('OOB to an unknown or unconfirmed key is dropped silently', () => {
  const a = h.confirmed(A);
  const pending = h.handshaken(B);
  assert.equal(h.packet(a, [6, ...h.key(B), 1]), []);
  assert.equal(h.packet(a, [6, ...h.key(0x55), 1]), []);
  h.close(a); h.close(pending);
});

test('OOB sizes: data 1..1024 passes, empty or longer kills', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  assert.is(h.packet(a, [6, ...h.key(B), ...new Array(1024).fill(3)]).length, 1);
  assert.equal(h.packet(a, [6, ...h.key(B), ...new Array(1025).fill(3)]), kill(a, CloseReason.BAD_PACKET));
  const a2 = h.confirmed(A);
  assert.equal(h.packet(a2, [6, ...h.key(B)]), kill(a2, CloseReason.BAD_PACKET));
  h.close(b);
});

test('without the UDP modules: ONION_REQUEST is ignored, FORWARD_REQUEST kills', () => {
  const a = h.confirmed(A);
  assert.equal(h.packet(a, [8, ...new Array(200).fill(1)]), []);
  assert.equal(h.packet(a, [8]), []);
  assert.equal(h.packet(a, [10, 2, 127, 0, 0, 1, 0, 80]), kill(a, CloseReason.UNSUPPORTED));
});

test('an invalid confirming packet confirms and then kills the new connection', () => {
  const a = h.handshaken(A);
  assert.equal(h.packet(a, [1, 2, 3]), kill(a, CloseReason.BAD_PACKET));
  assert.is(h.x.state(a), 0);
  assert.is(h.x.connectionsConfirmed(), 0);
});

test.run();
