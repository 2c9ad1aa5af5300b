// Fuzz target 3: the handshake (§1) over the in-page relay (src/relay/in-page.ts, in-memory
// streams, the real host and crypto). Random bytes, valid hellos with corrupted bytes, valid hellos
// with trailing bytes, short hellos, all written in random pieces. Nothing throws; a bad hello
// closes its own stream and nothing else; a short one waits; a linked bystander pair keeps
// exchanging data; once the fuzzed stream is closed, only the bystanders are left.

import fc from 'fast-check';
import { RelayClient } from '../../src/client/index.ts';
import { createHello } from '../../src/client/handshake.ts';
import { generateKeyPair, ready } from '../../src/client/sodium.ts';
import { ManualClock } from '../../src/clock.ts';
import type { CoreInstance } from '../../src/core/instance.ts';
import { readCoreWasm } from '../../src/core/load.ts';
import { startInPageRelay, type InPageRelay } from '../../src/relay/in-page.ts';
import { check, tick } from './util.ts';

export type HelloInput =
  | { kind: 'random'; bytes: Uint8Array; cuts: number[] }
  | { kind: 'short'; bytes: Uint8Array; cuts: number[] }
  | { kind: 'corrupt'; flips: { pos: number; xor: number }[]; extra: Uint8Array; cuts: number[] }
  | { kind: 'valid'; extra: Uint8Array; cuts: number[] };

const cuts = fc.array(fc.nat(400), { maxLength: 8 });
export const handshakeArbitrary: fc.Arbitrary<HelloInput> = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 128, maxLength: 400 }), cuts }),
  fc.record({ kind: fc.constant('short' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 127 }), cuts }),
  fc.record({
    kind: fc.constant('corrupt' as const),
    flips: fc.array(fc.record({ pos: fc.nat(127), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
    extra: fc.uint8Array({ maxLength: 60 }),
    cuts,
  }),
  fc.record({ kind: fc.constant('valid' as const), extra: fc.uint8Array({ maxLength: 200 }), cuts }),
);

interface World {
  relay: InPageRelay;
  a: RelayClient;
  b: RelayClient;
  aId: number;
  runs: number;
}
let world: Promise<World> | undefined;

async function makeWorld(): Promise<World> {
  await ready();
  const relay = await startInPageRelay({ wasm: await readCoreWasm(), autoTimers: false, clock: new ManualClock(), maxConnections: 16 });
  const client = () => new RelayClient({ transport: relay.connect(), serverPublicKey: relay.publicKey, handshakeTimeoutMs: 5000, pingTimeoutMs: 5000 });
  const a = client(), b = client();
  await Promise.all([a.connect(), b.connect()]);
  const aUp = a.waitFor('connectNotification'), bUp = b.waitFor('connectNotification');
  a.routingRequest(b.publicKey);
  b.routingRequest(a.publicKey);
  const [na] = await Promise.all([aUp, bUp]);
  return { relay, a, b, aId: na.connId, runs: 0 };
}

/** Closes the shared relay (the suite calls it at the end). */
export async function closeHandshakeWorld(): Promise<void> {
  if (!world) return;
  const w = await world;
  world = undefined;
  w.a.close();
  w.b.close();
  w.relay.close();
}

export async function fuzzHandshake(input: HelloInput): Promise<void> {
  try {
    await runHandshake(await (world ??= makeWorld()), input);
  } catch (error) {
    await closeHandshakeWorld(); // start the next run (fast-check shrinking) from a fresh relay
    throw error;
  }
}

async function runHandshake(w: World, input: HelloInput): Promise<void> {
  const { relay } = w;
  const base = relay.relay.connectionCount;
  check(base === 2, `${base} connections before the run, expected the 2 bystanders`);

  let bytes: Uint8Array;
  let expect: 'closed' | 'open' | 'answered';
  if (input.kind === 'random') {
    bytes = input.bytes;
    expect = 'closed';
  } else if (input.kind === 'short') {
    bytes = input.bytes;
    expect = 'open';
  } else {
    const { hello } = createHello(generateKeyPair(), relay.publicKey);
    const original = hello.slice();
    if (input.kind === 'corrupt') for (const f of input.flips) hello[f.pos]! ^= f.xor;
    const changed = hello.some((v, i) => v !== original[i]);
    bytes = Uint8Array.of(...hello, ...input.extra);
    expect = changed ? 'closed' : 'answered';
  }

  const transport = relay.connect();
  let received = 0;
  let closed = false;
  transport.onData((chunk) => (received += chunk.length));
  transport.onClose(() => (closed = true));
  const points = [...new Set(input.cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to > from) transport.write(bytes.slice(from, to));
    from = Math.max(from, to);
    await new Promise<void>((r) => queueMicrotask(r)); // let the relay read this piece alone
  }
  await tick();
  await tick();

  if (expect === 'closed') {
    check(closed, `a bad ${input.kind} hello of ${bytes.length} bytes left its stream open`);
    check(received === 0, `a bad hello got ${received} bytes back`);
  } else if (expect === 'open') {
    check(!closed, `a ${bytes.length}-byte partial hello was closed`);
    check(received === 0, `a partial hello got ${received} bytes back`);
    check(relay.relay.connectionCount === base + 1, 'the partial hello holds a slot');
  } else {
    check(received >= 96, `a valid hello got ${received} bytes back, not the 96-byte reply`);
  }

  // The bystanders are unaffected.
  check(w.a.state === 'confirmed' && w.b.state === 'confirmed', `bystanders in states ${w.a.state}/${w.b.state}`);
  const n = ++w.runs & 0xff;
  const got = w.b.waitFor('data', (d) => d.data[0] === n, 2000);
  w.a.sendData(w.aId, Uint8Array.of(n, 1, 2, 3));
  await got;

  transport.close();
  for (let i = 0; i < 5 && relay.relay.connectionCount !== base; i++) await tick();
  check(relay.relay.connectionCount === base, `${relay.relay.connectionCount} connections after closing the fuzzed stream, expected ${base}`);
  const core = (relay.relay as unknown as { core: CoreInstance }).core; // private: inspection only
  check(core.x.partialFrames() === 0, `partial frames left: ${core.x.partialFrames()}`);
}
