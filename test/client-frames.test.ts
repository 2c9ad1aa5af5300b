import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientError } from '../src/client/errors.ts';
import { ChunkQueue, encodeFrame, FrameReader, MAX_FRAME_LENGTH } from '../src/client/frames.ts';

function bytes(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// A small deterministic PRNG so failures reproduce.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function drain(reader: FrameReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) out.push(frame.slice());
  return out;
}

test('encodeFrame writes a big-endian u16 length before the body', () => {
  const frame = encodeFrame(bytes(0x0102));
  assert.is(frame.length, 2 + 0x0102);
  assert.is(frame[0], 0x01);
  assert.is(frame[1], 0x02);
  assert.equal(frame.subarray(2), bytes(0x0102));
  assert.equal([...encodeFrame(new Uint8Array(0))], [0, 0]);
  assert.throws(() => encodeFrame(new Uint8Array(0x10000)), RangeError);
});

test('several frames in one chunk come out one by one', () => {
  const reader = new FrameReader();
  const bodies = [bytes(17), bytes(40, 1), bytes(2048, 2)];
  reader.push(concat(bodies.map(encodeFrame)));
  assert.equal(drain(reader), bodies);
  assert.is(reader.buffered, 0);
});

test('a frame fed one byte at a time appears only when complete', () => {
  const reader = new FrameReader();
  const body = bytes(300, 3);
  const wire = encodeFrame(body);
  for (let i = 0; i < wire.length - 1; i++) {
    reader.push(wire.subarray(i, i + 1));
    assert.is(reader.next(), undefined, `frame reported after ${i + 1} of ${wire.length} bytes`);
  }
  reader.push(wire.subarray(wire.length - 1));
  assert.equal(reader.next(), body);
  assert.is(reader.next(), undefined);
});

test('the length prefix may be split across chunks', () => {
  const reader = new FrameReader();
  const body = bytes(0x1ff, 4); // both prefix bytes non-zero
  const wire = encodeFrame(body);
  reader.push(wire.subarray(0, 1));
  assert.is(reader.next(), undefined);
  reader.push(wire.subarray(1, 2));
  assert.is(reader.next(), undefined);
  reader.push(wire.subarray(2));
  assert.equal(reader.next(), body);
});

test('random chunkings of a frame stream give back the same frames in order', () => {
  const random = prng(42);
  for (let round = 0; round < 200; round++) {
    const bodies = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) =>
      bytes(Math.floor(random() * 300), round * 10 + i),
    );
    const wire = concat(bodies.map(encodeFrame));
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let at = 0; at < wire.length; ) {
      const size = 1 + Math.floor(random() * (round % 2 ? 7 : 600));
      reader.push(wire.subarray(at, at + size));
      at += size;
      got.push(...drain(reader));
    }
    assert.equal(got, bodies, `round ${round}`);
    assert.is(reader.buffered, 0);
  }
});

test('a zero-length frame yields an empty body and the stream goes on', () => {
  const reader = new FrameReader();
  reader.push(concat([encodeFrame(new Uint8Array(0)), encodeFrame(bytes(20))]));
  assert.equal(drain(reader), [new Uint8Array(0), bytes(20)]);
});

test('a prefix above 2048 throws FRAME_TOO_LONG before any body arrives', () => {
  const reader = new FrameReader();
  reader.push(Uint8Array.of(0x08, 0x01)); // 2049
  try {
    reader.next();
    assert.unreachable('no error');
  } catch (error) {
    assert.instance(error, ClientError);
    assert.is((error as ClientError).code, 'FRAME_TOO_LONG');
  }
  const exact = new FrameReader();
  exact.push(encodeFrame(bytes(MAX_FRAME_LENGTH)));
  assert.is(exact.next()?.length, MAX_FRAME_LENGTH);
});

test('unframed handshake bytes, then frames, from the same chunks', () => {
  const reader = new FrameReader();
  const reply = bytes(96, 9);
  const frame = bytes(50, 10);
  const wire = concat([reply, encodeFrame(frame)]);
  reader.push(wire.subarray(0, 95));
  assert.is(reader.takeRaw(96), undefined);
  reader.push(wire.subarray(95, 100));
  assert.equal(reader.takeRaw(96), reply);
  assert.is(reader.next(), undefined);
  reader.push(wire.subarray(100));
  assert.equal(reader.next(), frame);
});

test('ChunkQueue peeks and takes across chunk boundaries', () => {
  const queue = new ChunkQueue();
  queue.push(Uint8Array.of(1, 2));
  queue.push(new Uint8Array(0));
  queue.push(Uint8Array.of(3));
  queue.push(Uint8Array.of(4, 5, 6));
  assert.is(queue.length, 6);
  assert.is(queue.peek(2), 3);
  assert.is(queue.peek(5), 6);
  assert.equal([...queue.take(1)], [1]);
  assert.equal([...queue.take(4)], [2, 3, 4, 5]);
  assert.is(queue.length, 1);
  assert.throws(() => queue.take(2), RangeError);
  assert.equal([...queue.take(1)], [6]);
  assert.is(queue.length, 0);
});

test('ChunkQueue skips across chunk boundaries and refuses to skip past the end', () => {
  const queue = new ChunkQueue();
  queue.push(Uint8Array.of(1));
  queue.push(Uint8Array.of(2, 3));
  queue.push(Uint8Array.of(4, 5));
  queue.skip(2);
  assert.is(queue.length, 3);
  assert.is(queue.peek(0), 3);
  queue.skip(2);
  assert.equal([...queue.take(1)], [5]);
  assert.throws(() => queue.skip(1), RangeError);
});

test.run();
