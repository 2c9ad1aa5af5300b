// §7 timers, plus the handshake timeout, on the core's clock argument.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloseReason } from '../src/core/exports.ts';
import { coreHarness, type Decoded } from './support/core-harness.ts';

const pings = (actions: Decoded[]) => actions.filter((a) => a.kind === 'send' && a.bytes[0] === 4) as Extract<Decoded, { kind: 'send' }>[];

test('first ping 30 s after confirmation, random non-zero id, priority', async () => {
  const h = await coreHarness();
  const a = h.confirmed(0xa1, 1000);
  assert.equal(h.sweep(30_999), []);
  const sent = pings(h.sweep(31_000));
  assert.is(sent.length, 1);
  assert.is(sent[0]!.slot, a);
  assert.is(sent[0]!.bytes.length, 9);
  assert.is(sent[0]!.priority, true);
  assert.ok(sent[0]!.bytes.slice(1).some((b) => b !== 0));
});

test('no pong within 10 s kills and notifies linked peers', async () => {
  const h = await coreHarness();
  const a = h.confirmed(0xa1), b = h.confirmed(0xb2);
  h.routing(a, 0xb2); h.routing(b, 0xa1);
  const sent = pings(h.sweep(30_000));
  const bPing = sent.find((p) => p.slot === b)!;
  h.packet(b, [5, ...bPing.bytes.slice(1)]); // b answers, a does not
  assert.equal(h.sweep(39_999), []);
  assert.equal(h.sweep(40_000), [
    { kind: 'send', slot: b, bytes: [3, 16], priority: true },
    { kind: 'kill', slot: a, reason: CloseReason.PING_TIMEOUT },
  ]);
});

test('a matching pong keeps the connection; the next ping follows 30 s later', async () => {
  const h = await coreHarness();
  const a = h.confirmed(0xa1);
  const ping = pings(h.sweep(30_000))[0]!;
  assert.equal(h.packet(a, [5, ...ping.bytes.slice(1)]), []);
  assert.equal(h.sweep(45_000), []);
  assert.is(pings(h.sweep(60_000)).length, 1);
});

test('a wrong pong does not answer the ping', async () => {
  const h = await coreHarness();
  const a = h.confirmed(0xa1);
  const ping = pings(h.sweep(30_000))[0]!;
  const wrong = ping.bytes.slice(1).map((b) => b ^ 1);
  assert.equal(h.packet(a, [5, ...wrong]), []);
  assert.equal(h.sweep(40_000), [{ kind: 'kill', slot: a, reason: CloseReason.PING_TIMEOUT }]);
});

test('client pings and traffic do not reset the server ping timer', async () => {
  const h = await coreHarness();
  const a = h.confirmed(0xa1);
  h.packet(a, [4, 1, 1, 1, 1, 1, 1, 1, 1], 29_000);
  assert.is(pings(h.sweep(30_000)).length, 1);
});

test('handshake timeout: unfinished and unconfirmed connections are closed, confirmed ones are not', async () => {
  const h = await coreHarness({ handshakeTimeoutMs: 5000 });
  const idle = h.x.openConnection(0);
  const unconfirmed = h.handshaken(0xa1, 0);
  const confirmed = h.confirmed(0xb2, 0);
  assert.equal(h.sweep(4999), []);
  const actions = h.sweep(5000);
  assert.equal(actions, [
    { kind: 'kill', slot: idle, reason: CloseReason.HANDSHAKE_TIMEOUT },
    { kind: 'kill', slot: unconfirmed, reason: CloseReason.HANDSHAKE_TIMEOUT },
  ]);
  assert.is(h.x.state(confirmed), 3);
});

test('a sweep over many connections is split into steps that never overflow', async () => {
  const h = await coreHarness({ maxConnections: 5000 });
  for (let i = 0; i < 5000; i++) {
    const pk = new Uint8Array(32);
    new DataView(pk.buffer).setUint32(0, i + 1);
    const slot = h.x.openConnection(0);
    h.core.bytes.set(pk, h.core.scratchPtr);
    h.x.handshakeDone(slot);
    h.packet(slot, [4, 1, 1, 1, 1, 1, 1, 1, 1]);
  }
  h.x.sweepBegin(30_000);
  let steps = 0, total = 0;
  while (!h.x.sweepDone()) {
    total += h.x.sweepStep();
    steps++;
  }
  assert.is(total, 5000);
  assert.ok(steps > 1);
});

test('pings followed in the same step by a kill with many links still fit (regression: compose area overflow)', async () => {
  const h = await coreHarness({ maxConnections: 1100 });
  const keyOf = (i: number) => {
    const pk = new Uint8Array(32);
    new DataView(pk.buffer).setUint32(0, i + 1);
    return pk;
  };
  const make = (i: number, now: number) => {
    const slot = h.x.openConnection(now);
    h.core.bytes.set(keyOf(i), h.core.scratchPtr);
    h.x.handshakeDone(slot);
    h.packet(slot, [4, 1, 1, 1, 1, 1, 1, 1, 1], now);
    return slot;
  };
  const slots: number[] = [];
  for (let i = 0; i < 993; i++) slots.push(make(i, 0)); // pinged at 30 s
  const mute = make(5000, -10_000); // pinged at 20 s, never answers, times out at 30 s
  for (let i = 0; i < 240; i++) {
    h.packet(mute, [0, ...keyOf(i)]);
    h.packet(slots[i]!, [0, ...keyOf(5000)]);
  }
  h.sweep(20_000);
  const actions = h.sweep(30_000);
  assert.is(actions.filter((a) => a.kind === 'send' && a.bytes[0] === 4).length, 993);
  assert.is(actions.filter((a) => a.kind === 'send' && a.bytes[0] === 3).length, 240);
  assert.equal(actions.filter((a) => a.kind === 'kill'), [{ kind: 'kill', slot: mute, reason: CloseReason.PING_TIMEOUT }]);
  assert.is(h.x.linkStatusOf(slots[0]!, 0), 1, 'peers fell back to requested');
});

test.run();
