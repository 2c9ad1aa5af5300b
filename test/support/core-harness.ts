// Drives the compiled core directly, without sockets or crypto: plaintexts go in, decoded
// actions come out. Used by the core's unit tests.

import { RelayCore } from '../../src/core/core.ts';
import { ActionKind, ConnectionState } from '../../src/core/exports.ts';

export type Decoded =
  | { kind: 'send'; slot: number; bytes: number[]; priority: boolean }
  | { kind: 'kill'; slot: number; reason: number }
  | { kind: 'onion' | 'forward'; slot: number; bytes: number[] };

export interface HarnessSettings {
  maxConnections?: number;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  modules?: number;
}

export async function coreHarness(settings: HarnessSettings = {}) {
  const core = await RelayCore.create({
    maxConnections: settings.maxConnections ?? 16,
    pingIntervalMs: settings.pingIntervalMs ?? 30_000,
    pingTimeoutMs: settings.pingTimeoutMs ?? 10_000,
    handshakeTimeoutMs: settings.handshakeTimeoutMs ?? 10_000,
    seed: 0x1234_5678_9abc_def0n,
    modules: settings.modules ?? 0,
  });
  const x = core.x;
  const scratch = { kind: 0, priority: false, reason: 0, slot: 0, ptr: 0, len: 0 };

  const decode = (count: number): Decoded[] => {
    const out: Decoded[] = [];
    for (let i = 0; i < count; i++) {
      const a = core.action(i, scratch);
      if (a.kind === ActionKind.SEND) {
        out.push({ kind: 'send', slot: a.slot, bytes: Array.from(core.bytes.subarray(a.ptr, a.ptr + a.len)), priority: a.priority });
      } else if (a.kind === ActionKind.KILL) {
        out.push({ kind: 'kill', slot: a.slot, reason: a.reason });
      } else {
        const kind = a.kind === ActionKind.ONION ? 'onion' : 'forward';
        out.push({ kind, slot: a.slot, bytes: Array.from(core.bytes.subarray(a.ptr, a.ptr + a.len)) });
      }
    }
    return out;
  };

  const key = (tag: number) => new Uint8Array(32).fill(tag);

  return {
    core,
    x,
    key,
    /** A connection that completed the handshake with public key `key(tag)`. */
    handshaken(tag: number, now = 0): number {
      const slot = x.openConnection(now);
      if (slot < 0) throw new Error('table full');
      const mem = core.bytes;
      mem.set(key(tag), core.scratchPtr);
      mem.fill(0, core.scratchPtr + 32, core.scratchPtr + 80);
      x.handshakeDone(slot);
      return slot;
    },
    /** Hands the core a decrypted packet from `slot` and returns its decisions. */
    packet(slot: number, bytes: number[] | Uint8Array, now = 0): Decoded[] {
      core.bytes.set(bytes, core.plaintextPtr);
      return decode(x.acceptFrame(slot, bytes.length, now));
    },
    /** A confirmed connection (its first packet is a ping, as c-toxcore's client sends). */
    confirmed(tag: number, now = 0): number {
      const slot = this.handshaken(tag, now);
      this.packet(slot, [4, 1, 2, 3, 4, 5, 6, 7, 8], now);
      if (x.state(slot) !== ConnectionState.CONFIRMED) throw new Error('not confirmed');
      return slot;
    },
    /** A packet from the UDP side for (slot, identifier). */
    deliver(slot: number, identifier: bigint, bytes: number[]): Decoded[] {
      core.bytes.set(bytes, core.plaintextPtr);
      return decode(x.deliverPacket(slot, identifier, bytes.length));
    },
    close(slot: number, reason = 8): Decoded[] {
      return decode(x.closeConnection(slot, reason));
    },
    sweep(now: number): Decoded[] {
      const all: Decoded[] = [];
      x.sweepBegin(now);
      while (!x.sweepDone()) all.push(...decode(x.sweepStep()));
      return all;
    },
    routing(slot: number, tag: number): Decoded[] {
      return this.packet(slot, [0, ...key(tag)]);
    },
    /** Feeds raw bytes and collects what nextFrame() yields: lengths, 0 or -1. */
    frames(slot: number, bytes: number[] | Uint8Array): { results: number[]; frames: number[][] } {
      core.bytes.set(bytes, core.inputPtr);
      x.feed(slot, bytes.length);
      const results: number[] = [];
      const frames: number[][] = [];
      for (;;) {
        const awaitingHello = x.state(slot) === ConnectionState.CONNECTED;
        const r = x.nextFrame();
        results.push(r);
        if (r <= 0) break;
        const p = x.lastFramePtr();
        frames.push(Array.from(core.bytes.subarray(p, p + r)));
        if (awaitingHello) break; // the host answers the hello before reading on
      }
      return { results, frames };
    },
  };
}

export type CoreHarness = Awaited<ReturnType<typeof coreHarness>>;
