// The fuzz targets, shared by the suite (test/fuzz-targets.test.ts: fixed seed, bounded count),
// the regression replay (test/fuzz-regressions.test.ts) and `npm run fuzz` (test/fuzz/runner.ts).
// Each is one fast-check arbitrary and an async function that throws on a broken invariant.

import fc from 'fast-check';
import { framesArbitrary, fuzzFrames } from './frames.ts';
import { closeHandshakeWorld, fuzzHandshake, handshakeArbitrary } from './handshake.ts';
import { fuzzPackets, packetsArbitrary } from './packets.ts';
import { fuzzUdp, udpArbitrary } from './udp.ts';

export interface FuzzTarget {
  name: string;
  description: string;
  arbitrary: fc.Arbitrary<unknown>;
  run(input: unknown): Promise<void>;
  /** Runs in the suite (fixed seed). */
  suiteRuns: number;
}

function target<T>(name: string, description: string, arbitrary: fc.Arbitrary<T>, run: (input: T) => Promise<void>, suiteRuns: number): FuzzTarget {
  return { name, description, arbitrary: arbitrary as fc.Arbitrary<unknown>, run: run as (input: unknown) => Promise<void>, suiteRuns };
}

export const targets: FuzzTarget[] = [
  target('frames', 'the core frame parser against a reference parse, random split points', framesArbitrary, fuzzFrames, 1500),
  target('packets', 'the core packet handler: op sequences over 8 connections, model + link symmetry + kill oracle', packetsArbitrary, fuzzPackets, 1500),
  target('handshake', 'hellos over the in-page relay, with a linked bystander pair', handshakeArbitrary, fuzzHandshake, 500),
  target('udp', 'onion and forwarding reply paths with real and mutated datagrams', udpArbitrary, fuzzUdp, 800),
];

export function findTarget(name: string): FuzzTarget {
  const t = targets.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target '${name}' (have: ${targets.map((x) => x.name).join(', ')})`);
  return t;
}

/** Frees what targets keep between runs (the in-page relay), so the process can exit. */
export async function releaseTargets(): Promise<void> {
  await closeHandshakeWorld();
}

/** JSON for inputs holding Uint8Arrays and bigints. */
export function encodeInput(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (Array.isArray(value)) return value.map(encodeInput);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeInput(v)]));
  return value;
}

export function decodeInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeInput);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'hex'));
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decodeInput(v)]));
  }
  return value;
}

export interface Regression {
  target: string;
  seed: number;
  path?: string;
  error: string;
  found: string;
  input: unknown;
}
