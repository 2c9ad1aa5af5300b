// Bad input of every kind closes that one connection; the relay goes on serving the others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RelayClient } from '../src/client/index.ts';
import { delay, pairStillWorks, testRelay, type TestRelay } from './support/relay.ts';

let r: TestRelay;
let bystanders: Awaited<ReturnType<TestRelay['linkedPair']>>;

test.before(async () => {
  r = await testRelay();
  bystanders = await r.linkedPair();
});
test.after(async () => {
  await r.close();
});

async function closesOnly(what: string, act: (c: RelayClient) => void | Promise<void>) {
  const c = await r.connected();
  const closed = c.waitFor('close', undefined, 3000);
  await act(c);
  try {
    await closed;
  } catch {
    assert.unreachable(`${what}: the relay did not close the connection`);
  }
  await pairStillWorks(bystanders);
}

const frameHeader = (len: number) => new Uint8Array([len >> 8, len & 0xff]);

test('frame lengths 1..16 close once the bytes arrive; a lone prefix does not', async () => {
  for (const len of [1, 15, 16]) {
    const c = await r.connected();
    c.sendRawBytes(frameHeader(len));
    await delay(100);
    assert.not.ok(c.closed, `prefix ${len} alone keeps the connection`);
    const closed = c.waitFor('close');
    c.sendRawBytes(new Uint8Array(len).fill(0x33));
    await closed;
    await pairStillWorks(bystanders);
  }
});

test('a frame length above 2048 closes at once', async () => {
  for (const len of [2049, 4096, 0xffff]) {
    await closesOnly(`length ${len}`, (c) => c.sendRawBytes(frameHeader(len)));
  }
});

test('zero-length frames are ignored', async () => {
  const c = await r.connected();
  c.sendRawBytes(new Uint8Array([0, 0, 0, 0, 0, 0]));
  await c.ping();
  c.close();
});

test('a bad MAC closes', async () => {
  await closesOnly('bad MAC', (c) => {
    const frame = c.sealFrame(new Uint8Array([4, 1, 2, 3, 4, 5, 6, 7, 8]));
    frame[10]! ^= 0x01;
    c.sendRawBytes(frame);
  });
});

test('a replayed frame (old nonce) closes', async () => {
  await closesOnly('replay', (c) => {
    const frame = c.sealFrame(new Uint8Array([4, 1, 2, 3, 4, 5, 6, 7, 8]));
    c.sendRawBytes(frame);
    c.sendRawBytes(frame);
  });
});

test('server-only and reserved packet ids close', async () => {
  for (const id of [1, 7, 9, 11, 12, 13, 14, 15]) {
    await closesOnly(`id ${id}`, (c) => c.sendPlaintext(new Uint8Array([id, ...new Array(33).fill(0)])));
  }
});

test('wrong lengths for routing, ping, pong, disconnect, OOB close', async () => {
  const cases: [string, number[]][] = [
    ['routing 32', [0, ...new Array(31).fill(1)]],
    ['routing 34', [0, ...new Array(33).fill(1)]],
    ['ping 8', [4, 1, 2, 3, 4, 5, 6, 7]],
    ['pong 10', [5, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['pong zero id', [5, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['disconnect 3', [3, 16, 0]],
    ['oob without data', [6, ...new Array(32).fill(1)]],
    ['oob 1025', [6, ...new Array(32).fill(1), ...new Array(1025).fill(2)]],
    ['connect notification 3', [2, 16, 0]],
  ];
  for (const [what, bytes] of cases) await closesOnly(what, (c) => c.sendPlaintext(new Uint8Array(bytes)));
});

test('data or a disconnect on an unused slot closes', async () => {
  await closesOnly('data on unused slot', (c) => c.sendData(16, new Uint8Array([1])));
  await closesOnly('disconnect unused slot', (c) => c.disconnect(20));
  await closesOnly('disconnect id < 16', (c) => c.disconnect(3));
});

test('without a UDP side: a forward request closes, an onion request is ignored', async () => {
  await closesOnly('forward', (c) => c.forwardRequest(new Uint8Array([2, 127, 0, 0, 1, 0, 80, 1])));
  const c = await r.connected();
  c.onionRequest(new Uint8Array(200));
  await c.ping();
  c.close();
});

test('random garbage after confirmation closes', async () => {
  await closesOnly('garbage', (c) => c.sendRawBytes(new Uint8Array([0x07, 0xd0, ...new Array(2000).fill(0x5a)])));
});

test('a frame sent in 1..5-byte pieces is reassembled', async () => {
  const c = await r.connected();
  const frame = c.sealFrame(new Uint8Array([4, 8, 6, 9, 0x43, 0, 0, 0, 0]));
  const pong = c.waitFor('pong');
  for (let at = 0; at < frame.length; ) {
    const n = 1 + (at % 5);
    c.sendRawBytes(frame.subarray(at, at + n));
    at += n;
    await new Promise((res) => setTimeout(res, 2));
  }
  assert.equal(Array.from((await pong).id), [8, 6, 9, 0x43, 0, 0, 0, 0]);
  c.close();
});

test.run();
