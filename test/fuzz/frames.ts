// Fuzz target 1: the core's frame parser (assembly/frames.ts) against a reference parse of §2.
// A random byte stream (mostly frames of valid, zero and forbidden lengths, some garbage), split
// at random points into feed() calls, optionally preceded by a 128-byte hello.

import fc from 'fast-check';
import { coreHarness, type CoreHarness } from '../support/core-harness.ts';
import { check, eq } from './util.ts';

const MAX_FRAME = 2048;
const MAC = 16;

export interface FramesInput {
  hello: boolean;
  pieces: Uint8Array[];
  cuts: number[];
}

const body = (len: number) => fc.uint8Array({ minLength: len, maxLength: len });
const prefixed = (len: number, bytes: Uint8Array) => Uint8Array.of(len >> 8, len & 0xff, ...bytes);

const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 17, max: MAX_FRAME }).chain((len) => body(len).map((b) => prefixed(len, b))) },
  { weight: 3, arbitrary: fc.integer({ min: 17, max: 80 }).chain((len) => body(len).map((b) => prefixed(len, b))) },
  { weight: 2, arbitrary: fc.constant(Uint8Array.of(0, 0)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: MAC }).chain((len) => body(len).map((b) => prefixed(len, b))) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_FRAME + 1, max: 0xffff }).map((len) => prefixed(len, new Uint8Array(0))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) },
);

export const framesArbitrary: fc.Arbitrary<FramesInput> = fc.record({
  hello: fc.boolean(),
  pieces: fc.array(piece, { maxLength: 12 }),
  cuts: fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 16 }),
});

type Ref = { kind: 'frame'; bytes: Uint8Array; end: number } | { kind: 'invalid'; end: number };

/** §2 as a plain reference: every event with the stream offset at which it becomes decidable. */
export function referenceParse(stream: Uint8Array, hello: boolean): Ref[] {
  const out: Ref[] = [];
  let at = 0;
  if (hello) {
    if (stream.length < 128) return out;
    out.push({ kind: 'frame', bytes: stream.subarray(0, 128), end: 128 });
    at = 128;
  }
  while (at + 2 <= stream.length) {
    const len = (stream[at]! << 8) | stream[at + 1]!;
    at += 2;
    if (len === 0) continue;
    if (len > MAX_FRAME) {
      out.push({ kind: 'invalid', end: at });
      return out;
    }
    if (at + len > stream.length) return out;
    at += len;
    if (len <= MAC) {
      out.push({ kind: 'invalid', end: at });
      return out;
    }
    out.push({ kind: 'frame', bytes: stream.subarray(at - len, at), end: at });
  }
  return out;
}

let shared: Promise<CoreHarness> | undefined;

export async function fuzzFrames(input: FramesInput): Promise<void> {
  const h = await (shared ??= coreHarness({ maxConnections: 4 }));
  const { x } = h;
  const total = input.pieces.reduce((n, p) => n + p.length, 0) + (input.hello ? 128 + 2 : 0);
  const stream = new Uint8Array(total);
  let w = 0;
  if (input.hello) {
    for (let i = 0; i < 128; i++) stream[i] = (i * 7) & 0xff;
    w = 130; // the hello, then a zero length (padding)
  }
  for (const p of input.pieces) {
    stream.set(p, w);
    w += p.length;
  }
  const cuts = [...new Set(input.cuts.map((c) => c % (total + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, total].filter((v, i, a) => i === 0 || v !== a[i - 1]);
  const expected = referenceParse(stream, input.hello);

  const slot = input.hello ? x.openConnection(0) : h.handshaken(1);
  check(slot >= 0, 'a slot is free');
  try {
    runFrames(h, slot, stream, bounds, expected);
  } finally {
    if (x.state(slot) !== 0) h.close(slot);
  }
  check(x.connectionsLive() === 0, 'connection freed');
  check(x.partialFrames() === 0, `partial frame blocks leaked: ${x.partialFrames()}`);
}

function runFrames(h: CoreHarness, slot: number, stream: Uint8Array, bounds: number[], expected: Ref[]): void {
  const { x, core } = h;
  let ei = 0;
  let dead = false;
  for (let b = 0; b + 1 < bounds.length && !dead; b++) {
    const from = bounds[b]!, to = bounds[b + 1]!;
    core.bytes.set(stream.subarray(from, to), core.inputPtr);
    x.feed(slot, to - from);
    for (;;) {
      const r = x.nextFrame();
      if (r === 0) break;
      const e = expected[ei++];
      if (r < 0) {
        check(e?.kind === 'invalid', `-1 where the reference has ${e ? e.kind : 'nothing'}`);
        check(e!.end > from && e!.end <= to, `-1 in the piece [${from},${to}) but the reference decides at ${e!.end}`);
        dead = true;
        break;
      }
      check(e?.kind === 'frame', `a ${r}-byte frame where the reference has ${e ? e.kind : 'nothing'}`);
      const f = e as Extract<Ref, { kind: 'frame' }>;
      check(f.end > from && f.end <= to, `frame ending at ${f.end} returned in the piece [${from},${to})`);
      const p = x.lastFramePtr();
      eq(Array.from(core.bytes.subarray(p, p + r)), Array.from(f.bytes), 'frame bytes');
      if (x.state(slot) === 1) {
        // The host answers the hello (handshakeDone) before reading on, as relay.ts does.
        core.bytes.fill(9, core.scratchPtr, core.scratchPtr + 80);
        x.handshakeDone(slot);
      }
    }
  }
  check(ei === expected.length, `the core yielded ${ei} events, the reference ${expected.length}`);
}
