// §5: links between connections, as decided by the core.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkStatus } from '../src/core/exports.ts';
import { coreHarness, type Decoded } from './support/core-harness.ts';

const h = await coreHarness({ maxConnections: 8 });
const A = 0xa1, B = 0xb2, C = 0xc3;
const closeAll = (...slots: number[]) => slots.forEach((s) => h.close(s));
const response = (to: number, connId: number, tag: number): Decoded => ({ kind: 'send', slot: to, bytes: [1, connId, ...h.key(tag)], priority: true });
const note = (to: number, id: number, connId: number): Decoded => ({ kind: 'send', slot: to, bytes: [id, connId], priority: true });

test('a request for one\'s own key is refused with id 0 and nothing else', () => {
  const a = h.confirmed(A);
  assert.equal(h.routing(a, A), [response(a, 0, A)]);
  assert.is(h.x.linkStatusOf(a, 0), LinkStatus.UNUSED);
  closeAll(a);
});

test('a one-sided request takes slot 16 and links nothing, even with the peer online', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  assert.equal(h.routing(a, B), [response(a, 16, B)]);
  assert.is(h.x.linkStatusOf(a, 0), LinkStatus.REQUESTED);
  assert.is(h.x.linkStatusOf(b, 0), LinkStatus.UNUSED);
  closeAll(a, b);
});

test('a mutual request links both: response first, then both notifications', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  h.routing(a, B);
  assert.equal(h.routing(b, A), [response(b, 16, A), note(b, 2, 16), note(a, 2, 16)]);
  assert.is(h.x.linkStatusOf(a, 0), LinkStatus.ONLINE);
  assert.is(h.x.linksOnline(), 1, 'one linked pair');
  assert.is(h.x.linkPeer(a, 0), b);
  assert.is(h.x.linkPeerLinkOf(b, 0), 0);
  closeAll(a, b);
});

test('a repeated request answers the same id and does nothing else', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  h.routing(a, B);
  h.routing(b, A);
  assert.equal(h.routing(a, B), [response(a, 16, B)]);
  assert.equal(h.routing(b, A), [response(b, 16, A)]);
  closeAll(a, b);
});

test('the lowest free slot is taken, and slot ids differ per side', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  h.routing(a, 0x01);
  h.routing(a, 0x02);
  h.routing(a, B); // a's slot 2
  const actions = h.routing(b, A); // b's slot 0
  assert.equal(actions, [response(b, 16, A), note(b, 2, 16), note(a, 2, 18)]);
  // free a's slot 0 and ask for a new key: it takes slot 0 again
  h.packet(a, [3, 16]);
  assert.equal(h.routing(a, 0x03), [response(a, 16, 3)]);
  closeAll(a, b);
});

test('data is relayed with the peer\'s conn id, non-priority, unchanged otherwise', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  h.routing(a, 0x01); // a: slot 0 taken by someone else
  h.routing(a, B); // a: slot 1 (id 17)
  h.routing(b, A); // b: slot 0 (id 16)
  assert.equal(h.packet(a, [17, 9, 8, 7]), [{ kind: 'send', slot: b, bytes: [16, 9, 8, 7], priority: false }]);
  assert.equal(h.packet(b, [16, 1]), [{ kind: 'send', slot: a, bytes: [17, 1], priority: false }]);
  assert.equal(h.packet(b, [16]), [{ kind: 'send', slot: a, bytes: [17], priority: false }]);
  closeAll(a, b);
});

test('data on a requested (offline) slot is dropped silently', () => {
  const a = h.confirmed(A);
  h.routing(a, B);
  assert.equal(h.packet(a, [16, 1, 2, 3]), []);
  assert.is(h.x.state(a), 3);
  closeAll(a);
});

test('data on an unused slot kills the sender', () => {
  for (const id of [16, 100, 255]) {
    const a = h.confirmed(A);
    assert.equal(h.packet(a, [id, 1]), [{ kind: 'kill', slot: a, reason: 4 }]);
    assert.is(h.x.state(a), 0);
  }
});

test('disconnect of a linked slot: the peer is told and falls back to requested; no reply', () => {
  const a = h.confirmed(A), b = h.confirmed(B);
  h.routing(a, B);
  h.routing(b, A);
  assert.equal(h.packet(a, [3, 16]), [note(b, 3, 16)]);
  assert.is(h.x.linksOnline(), 0);
  assert.is(h.x.linkStatusOf(a, 0), LinkStatus.UNUSED);
  assert.is(h.x.linkStatusOf(b, 0), LinkStatus.REQUESTED);
  // asking again relinks at once: the peer still names us
  assert.equal(h.routing(a, B), [response(a, 16, B), note(a, 2, 16), note(b, 2, 16)]);
  closeAll(a, b);
});

test('disconnect of a requested slot clears it silently; a second one kills', () => {
  const a = h.confirmed(A);
  h.routing(a, B);
  assert.equal(h.packet(a, [3, 16]), []);
  assert.equal(h.packet(a, [3, 16]), [{ kind: 'kill', slot: a, reason: 4 }]);
});

test('disconnect with an id below 16 or on an unused slot kills', () => {
  for (const id of [0, 1, 15, 16, 255]) {
    const a = h.confirmed(A);
    assert.equal(h.packet(a, [3, id]), [{ kind: 'kill', slot: a, reason: 4 }], `id ${id}`);
  }
});

test('all 240 slots in use: the next request is refused with id 0', () => {
  const a = h.confirmed(A);
  for (let i = 0; i < 240; i++) {
    const pk = new Uint8Array(32);
    new DataView(pk.buffer).setUint32(0, i + 1);
    const actions = h.packet(a, [0, ...pk]);
    assert.is((actions[0] as { bytes: number[] }).bytes[1], 16 + i);
  }
  assert.equal(h.routing(a, C), [response(a, 0, C)]);
  assert.ok(h.x.linkChunks() >= 30);
  h.close(a);
  assert.is(h.x.linkChunks(), 0, 'every chunk returned');
});

test('killing a connection notifies each linked peer and keeps their requested slots (§5.4)', () => {
  const a = h.confirmed(A), b = h.confirmed(B), c = h.confirmed(C);
  h.routing(a, B); h.routing(b, A);
  h.routing(a, C); h.routing(c, A);
  h.routing(a, 0x77); // requested, never online
  const actions = h.close(a);
  assert.equal(actions, [note(b, 3, 16), note(c, 3, 16), { kind: 'kill', slot: a, reason: 8 }]);
  assert.is(h.x.linkStatusOf(b, 0), LinkStatus.REQUESTED);
  // A comes back on a new connection and asks for B: linked at once
  const a2 = h.confirmed(A);
  const relink = h.routing(a2, B);
  assert.equal(relink, [response(a2, 16, B), note(a2, 2, 16), note(b, 2, 16)]);
  assert.is(h.x.linksOnline(), 1, 'a2–b');
  closeAll(a2, b, c);
  assert.is(h.x.linkChunks(), 0);
  assert.is(h.x.linksOnline(), 0);
});

test.run();
