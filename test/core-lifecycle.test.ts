// §1 and §3: confirmation, identifiers, same-key replacement, slots and memory reuse.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CloseReason, ConnectionState } from '../src/core/exports.ts';
import { coreHarness } from './support/core-harness.ts';

const A = 0xa1, B = 0xb2;

test('identifiers start at 1, are assigned at confirmation and never reused', async () => {
  const h = await coreHarness({ maxConnections: 4 });
  const a = h.handshaken(A);
  assert.is(h.x.identifier(a), 0n, 'none before confirmation');
  h.packet(a, [4, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.is(h.x.identifier(a), 1n);
  const b = h.confirmed(B);
  assert.is(h.x.identifier(b), 2n);
  h.close(a);
  const a2 = h.confirmed(A);
  assert.is(a2, a, 'the slot is reused');
  assert.is(h.x.identifier(a2), 3n, 'the identifier is not');
});

test('a handshake alone leaves the same-key connection alone; confirmation replaces it', async () => {
  const h = await coreHarness({ maxConnections: 4 });
  const old = h.confirmed(A), b = h.confirmed(B);
  h.routing(old, B); h.routing(b, A);
  const fresh = h.handshaken(A);
  assert.is(h.x.state(old), ConnectionState.CONFIRMED);
  assert.is(h.core.findByKey(h.key(A)), old);
  const actions = h.packet(fresh, [4, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(actions, [
    { kind: 'send', slot: b, bytes: [3, 16], priority: true },
    { kind: 'kill', slot: old, reason: CloseReason.REPLACED },
    { kind: 'send', slot: fresh, bytes: [5, 1, 1, 1, 1, 1, 1, 1, 1], priority: true },
  ]);
  assert.is(h.core.findByKey(h.key(A)), fresh);
  assert.is(h.x.connectionsConfirmed(), 2);
});

test('the connection cap: no slot when every one is taken, one again after a close', async () => {
  const h = await coreHarness({ maxConnections: 3 });
  const slots = [h.x.openConnection(0), h.x.openConnection(0), h.x.openConnection(0)];
  assert.equal(slots.slice().sort(), [0, 1, 2]);
  assert.is(h.x.openConnection(0), -1);
  h.close(slots[1]!);
  assert.is(h.x.openConnection(0), slots[1]);
});

test('closing an unconfirmed connection sends nothing but its kill', async () => {
  const h = await coreHarness();
  const a = h.handshaken(A);
  assert.equal(h.close(a, CloseReason.DECRYPT_FAILED), [{ kind: 'kill', slot: a, reason: CloseReason.DECRYPT_FAILED }]);
  assert.equal(h.close(a), [], 'a second close is a no-op');
});

test('key lookup survives many keys and removals (hash chains)', async () => {
  const h = await coreHarness({ maxConnections: 300 });
  const slots: number[] = [];
  for (let i = 1; i <= 250; i++) slots.push(h.confirmed(i));
  for (let i = 1; i <= 250; i += 2) h.close(slots[i - 1]!);
  for (let i = 1; i <= 250; i++) {
    assert.is(h.core.findByKey(h.key(i)), i % 2 === 1 ? -1 : slots[i - 1]!, `key ${i}`);
  }
});

test('churn leaves nothing behind: slots, link chunks, partial frames', async () => {
  const h = await coreHarness({ maxConnections: 8 });
  const baseline = h.x.memoryBytes();
  for (let round = 0; round < 2000; round++) {
    const a = h.confirmed(A), b = h.confirmed(B);
    h.routing(a, B); h.routing(b, A);
    for (let k = 0; k < 20; k++) h.routing(a, 0x10 + k);
    h.frames(a, [0, 100, 1, 2, 3]);
    h.close(round % 2 ? a : b);
    h.close(round % 2 ? b : a);
  }
  assert.is(h.x.connectionsLive(), 0);
  assert.is(h.x.linkChunks(), 0);
  assert.is(h.x.partialFrames(), 0);
  assert.ok(h.x.memoryBytes() - baseline <= 128 * 1024, `memory grew by ${h.x.memoryBytes() - baseline}`);
});

test.run();
