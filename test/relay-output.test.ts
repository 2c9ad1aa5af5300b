// The output batcher: one write per session per turn, and a session whose batch reaches the
// threshold written on its own while the others stay batched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { OutputBatcher } from '../src/relay/output.ts';
import { Session } from '../src/relay/session.ts';
import type { Wire } from '../src/relay/wire.ts';

class RecordingWire implements Wire {
  readonly remoteAddress = '127.0.0.1';
  readonly writes: number[][] = [];
  write(bytes: Uint8Array): void {
    this.writes.push([...bytes]);
  }
  pendingBytes(): number {
    return 0;
  }
  destroy(): void {}
}

function session(slot: number): { session: Session; wire: RecordingWire } {
  const wire = new RecordingWire();
  return { session: new Session(slot, wire), wire };
}

function frame(tag: number, size: number): Uint8Array {
  return new Uint8Array(size).fill(tag);
}

test('frames of one turn reach each session in a single write, in order', async () => {
  const batcher = new OutputBatcher(1024);
  const a = session(0);
  const b = session(1);
  batcher.append(a.session, frame(1, 10));
  batcher.append(b.session, frame(2, 20));
  batcher.append(a.session, frame(3, 30));
  assert.equal(a.wire.writes.length, 0, 'nothing is written before the end of the turn');
  await nextTurn();
  assert.equal(a.wire.writes, [[...frame(1, 10), ...frame(3, 30)]]);
  assert.equal(b.wire.writes, [[...frame(2, 20)]]);
  assert.is(a.session.backlog(), 0);
});

test('a session reaching the threshold is written alone; the others stay batched', async () => {
  const batcher = new OutputBatcher(100);
  const big = session(0);
  const small = session(1);
  batcher.append(small.session, frame(9, 10));
  batcher.append(big.session, frame(1, 60));
  batcher.append(big.session, frame(2, 60)); // 120 ≥ 100: written now
  assert.equal(big.wire.writes, [[...frame(1, 60), ...frame(2, 60)]]);
  assert.equal(small.wire.writes, [], 'the small session waits for the end of the turn');
  assert.is(big.session.backlog(), 0, 'the written batch no longer counts as batched');
  batcher.append(big.session, frame(3, 5));
  assert.is(big.session.backlog(), 5);
  await nextTurn();
  assert.equal(big.wire.writes, [[...frame(1, 60), ...frame(2, 60)], [...frame(3, 5)]], 'later frames follow in order');
  assert.equal(small.wire.writes, [[...frame(9, 10)]]);
});

test('the frames of a session that closed during the turn are discarded', async () => {
  const batcher = new OutputBatcher(1024);
  const gone = session(0);
  const kept = session(1);
  batcher.append(gone.session, frame(1, 10));
  batcher.append(kept.session, frame(2, 10));
  gone.session.alive = false;
  await nextTurn();
  assert.equal(gone.wire.writes, []);
  assert.equal(kept.wire.writes, [[...frame(2, 10)]]);
});

test('a threshold below one frame writes every frame at once and still ends the turn cleanly', async () => {
  const batcher = new OutputBatcher(0);
  const a = session(0);
  batcher.append(a.session, frame(1, 10));
  batcher.append(a.session, frame(2, 10));
  assert.equal(a.wire.writes, [[...frame(1, 10)], [...frame(2, 10)]]);
  await nextTurn();
  assert.is(a.wire.writes.length, 2, 'nothing is written twice');
  batcher.append(a.session, frame(3, 10));
  assert.is(a.wire.writes.length, 3);
});

/** A wire that lends: it says whether it is done with each write (like TCP when the kernel took it all). */
class LendingWire extends RecordingWire {
  keep = false;
  queued = 0;
  borrowed = 0;
  readonly kept: Uint8Array[] = [];
  readonly arrays = new Set<ArrayBufferLike>();
  override pendingBytes(): number {
    return this.queued;
  }
  writeBorrowed(bytes: Uint8Array): boolean {
    this.borrowed++;
    this.write(bytes);
    this.arrays.add(bytes.buffer);
    if (this.keep) this.kept.push(bytes);
    return !this.keep;
  }
}

test('a wire that gives the bytes back gets the same buffer turn after turn; one that keeps them never sees them change', async () => {
  const batcher = new OutputBatcher(1024);
  const wire = new LendingWire();
  const s = new Session(0, wire);
  for (let turn = 1; turn <= 3; turn++) {
    batcher.append(s, frame(turn, 100));
    await nextTurn();
  }
  assert.is(wire.writes.length, 3);
  assert.is(wire.arrays.size, 1, 'one gathering buffer for every write');

  wire.keep = true;
  batcher.append(s, frame(7, 50));
  await nextTurn();
  const held = wire.kept[0]!;
  wire.keep = false;
  batcher.append(s, frame(8, 50));
  await nextTurn();
  assert.equal([...held], [...frame(7, 50)], 'bytes the wire kept are not reused');
  assert.equal(wire.writes.at(-1), [...frame(8, 50)]);
});

test('a wire still draining is not lent the scratch: it would keep all of it for a few bytes', async () => {
  const batcher = new OutputBatcher(1024);
  const wire = new LendingWire();
  const s = new Session(0, wire);
  wire.queued = 5000; // a slow reader's socket, not yet drained
  for (let turn = 1; turn <= 3; turn++) {
    batcher.append(s, frame(turn, 100));
    await nextTurn();
  }
  assert.is(wire.borrowed, 0, 'plain writes of exact-size buffers');
  assert.equal(wire.writes.map((w) => w.length), [100, 100, 100]);
  wire.queued = 0;
  batcher.append(s, frame(4, 100));
  await nextTurn();
  assert.is(wire.borrowed, 1, 'lent again once drained');
});

test.run();
