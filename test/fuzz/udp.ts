// Fuzz target 4: the UDP reply paths (src/udp/onion.ts, src/udp/forwarding.ts) with a fake
// endpoint and a fake delivery. Real requests make real return blobs / sendbacks; replies are
// built from them and mutated (bit flips, truncation, extension, another inner id), mixed with
// random datagrams and clock jumps. A handler never throws, never sends a datagram, and delivers
// only an authentic reply (a return path this relay made, still within its key lifetime / time
// window) to the connection named in it, with the payload as received; an untouched fresh reply is
// always delivered.

import fc from 'fast-check';
import { ManualClock } from '../../src/clock.ts';
import { loadSodium } from '../../src/crypto/sodium.ts';
import type { UdpEndpoint } from '../../src/udp/endpoint.ts';
import { Forwarder } from '../../src/udp/forwarding.ts';
import { KEY_LIFETIME_MS, OnionHop } from '../../src/udp/onion.ts';
import { UdpStats } from '../../src/udp/return-path.ts';
import { check, eq } from './util.ts';

const HOUR = 3600_000;

export interface Mutation {
  flips: { pos: number; xor: number }[];
  truncate: number | null;
  append: Uint8Array;
  innerId: number | null;
}

export type UdpOp =
  | { op: 'request'; kind: 'onion' | 'forward'; slot: number; identifier: bigint; body: Uint8Array }
  | { op: 'advance'; ms: number }
  | { op: 'reply'; which: number; payload: Uint8Array; innerId: number; mut: Mutation }
  | { op: 'random'; first: number; bytes: Uint8Array };

export interface UdpInput {
  ops: UdpOp[];
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  flips: fc.array(fc.record({ pos: fc.nat(200), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 3 }),
  truncate: fc.option(fc.nat(200)),
  append: fc.oneof({ weight: 4, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2100 }) }),
  innerId: fc.option(fc.oneof(fc.constantFrom(0x84, 0x86, 0x88), fc.nat(255))),
});
const noMutation = fc.constant<Mutation>({ flips: [], truncate: null, append: new Uint8Array(0), innerId: null });

export const udpArbitrary: fc.Arbitrary<UdpInput> = fc.record({
  ops: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('request' as const), kind: fc.constantFrom('onion' as const, 'forward' as const), slot: fc.nat(10_000), identifier: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), body: fc.uint8Array({ minLength: 0, maxLength: 300 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.nat(60_000), fc.nat(3 * KEY_LIFETIME_MS)) }) },
      { weight: 6, arbitrary: fc.record({ op: fc.constant('reply' as const), which: fc.nat(20), payload: fc.uint8Array({ maxLength: 120 }), innerId: fc.constantFrom(0x84, 0x86, 0x88), mut: fc.oneof(noMutation, mutation) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('random' as const), first: fc.constantFrom(0x8e, 0x92), bytes: fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 2200 })) }) },
    ),
    { maxLength: 30 },
  ),
});

interface Made {
  kind: 'onion' | 'forward';
  slot: number;
  identifier: bigint;
  header: Uint8Array; // onion: the 59-byte return blob; forward: [45][sendback 45]
  at: number;
}

export async function fuzzUdp(input: UdpInput): Promise<void> {
  const sodium = await loadSodium();
  const clock = new ManualClock(5 * HOUR + 123);
  const stats = new UdpStats();
  const handlers = new Map<number, (packet: Buffer) => void>();
  const sent: Uint8Array[] = [];
  const endpoint = {
    on: (id: number, h: (packet: Buffer) => void) => void handlers.set(id, h),
    send: (packet: Uint8Array) => (sent.push(packet.slice()), true),
    refuses: () => false, // as with --udp-to-this-host: the requests below name 127.0.0.1
  } as unknown as UdpEndpoint;
  const delivered: { slot: number; identifier: bigint; plaintext: Uint8Array }[] = [];
  const connections = { deliver: (slot: number, identifier: bigint, plaintext: Uint8Array) => void delivered.push({ slot, identifier, plaintext: plaintext.slice() }) };
  const onion = new OnionHop(sodium, endpoint, connections, clock, stats);
  const forwarder = new Forwarder(sodium, endpoint, connections, clock, stats);
  const made: Made[] = [];

  const dispatch = (datagram: Uint8Array, what: string) => {
    const sentBefore = sent.length, deliveredBefore = delivered.length;
    const handler = datagram.length > 0 ? handlers.get(datagram[0]!) : undefined;
    handler?.(Buffer.from(datagram));
    check(sent.length === sentBefore, `${what}: a reply datagram made the relay send ${sent.length - sentBefore} datagram(s)`);
    check(delivered.length - deliveredBefore <= 1, `${what}: more than one delivery`);
    const d = delivered[deliveredBefore];
    if (!d) return false;
    // Authentic: the header is one this relay made, for the connection it was made for, still valid.
    const now = clock.now();
    const origin = made.find((m) => {
      if (m.kind === 'onion') {
        return datagram[0] === 0x8e && m.header.every((v, i) => datagram[1 + i] === v) && now - m.at < KEY_LIFETIME_MS;
      }
      return datagram[0] === 0x92 && m.header.every((v, i) => datagram[1 + i] === v) && Math.floor(now / HOUR) - Math.floor(m.at / HOUR) <= 1;
    });
    check(origin, `${what}: delivered a reply with no authentic return path (${datagram.length} bytes, first ${datagram[0]})`);
    check(d.slot === origin.slot && d.identifier === origin.identifier, `${what}: delivered to ${d.slot}/${d.identifier}, the path names ${origin.slot}/${origin.identifier}`);
    const headerEnd = origin.kind === 'onion' ? 60 : 47;
    if (origin.kind === 'onion') {
      check(datagram.length <= 1400 && [0x84, 0x86, 0x88].includes(datagram[60]!), `${what}: delivered an onion reply of ${datagram.length} bytes, inner id ${datagram[60]}`);
    } else {
      check(datagram.length - 47 <= 2001, `${what}: delivered a ${datagram.length - 47}-byte forward payload`);
    }
    eq(Array.from(d.plaintext), [origin.kind === 'onion' ? 9 : 11, ...datagram.subarray(headerEnd)], `${what}: delivered plaintext`);
    return true;
  };

  for (let i = 0; i < input.ops.length; i++) {
    const o = input.ops[i]!;
    const what = `op ${i} ${o.op}`;
    if (o.op === 'advance') {
      clock.advance(o.ms);
    } else if (o.op === 'request') {
      const before = sent.length;
      if (o.kind === 'onion') {
        const plain = new Uint8Array(1 + 24 + 19 + 32 + o.body.length);
        plain[0] = 8;
        plain.set([2, 127, 0, 0, 1], 25);
        plain.set([0x82, 0x35], 25 + 17);
        plain.set(o.body, 25 + 19 + 32);
        onion.request(o.slot, o.identifier, plain);
        check(sent.length === before + 1, `${what}: onion request not sent`);
        const packet = sent[sent.length - 1]!;
        check(packet.length === plain.length + 40, `${what}: onion packet of ${packet.length} bytes for a ${plain.length}-byte request`);
        made.push({ kind: 'onion', slot: o.slot, identifier: o.identifier, header: packet.slice(packet.length - 59), at: clock.now() });
      } else {
        const plain = Uint8Array.of(10, 2, 127, 0, 0, 1, 0x82, 0x35, ...o.body);
        forwarder.request(o.slot, o.identifier, plain);
        check(sent.length === before + 1, `${what}: forward request not sent`);
        const packet = sent[sent.length - 1]!;
        check(packet.length === 47 + o.body.length && packet[0] === 0x91 && packet[1] === 45, `${what}: malformed FORWARDING`);
        made.push({ kind: 'forward', slot: o.slot, identifier: o.identifier, header: packet.slice(1, 47), at: clock.now() });
      }
    } else if (o.op === 'reply') {
      if (made.length === 0) continue;
      const m = made[o.which % made.length]!;
      const base = m.kind === 'onion' ? Uint8Array.of(0x8e, ...m.header, o.innerId, ...o.payload) : Uint8Array.of(0x92, ...m.header, ...o.payload);
      let datagram = base.slice();
      for (const f of o.mut.flips) datagram[f.pos % datagram.length]! ^= f.xor;
      if (m.kind === 'onion' && o.mut.innerId !== null) datagram[60] = o.mut.innerId;
      if (o.mut.truncate !== null) datagram = datagram.slice(0, o.mut.truncate);
      if (o.mut.append.length) datagram = Uint8Array.of(...datagram, ...o.mut.append);
      const ok = dispatch(datagram, what);
      const untouched = datagram.length === base.length && datagram.every((v, i) => v === base[i]);
      if (untouched && clock.now() === m.at) {
        check(ok, `${what}: an untouched fresh ${m.kind} reply was not delivered`);
      }
    } else {
      dispatch(Uint8Array.of(o.first, ...o.bytes), what);
    }
  }
}
