// Shared pieces of the abuse scenarios: the target, a /proc sampler of the server (RSS, open
// fds), and a legit linked pair whose data ping-pong RTT is measured while an attack runs.
// Every target is a loopback address (checked in assertLoopback); every loop is bounded.

import { readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type BenchClient, closeClient, connectWithin, hexToBytes, linkPair, openClient, sourceAddress } from '../bench/clients.ts';
import type { Target } from '../bench/options.ts';
import { pidMemory } from '../bench/proc.ts';
import { ascending, percentile, round } from '../bench/stats.ts';

export interface AbuseTarget extends Target {
  pid: number;
  udpPort?: number;
}

export function assertLoopback(host: string): void {
  if (!(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost')) {
    throw new Error(`abuse scenarios only target loopback addresses (127.0.0.0/8, ::1); got ${host}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Source addresses 127.1.x.y onwards for attack sockets (the legit pair uses 127.0.0.x). */
let nextSource = 254 * 256; // sourceAddress(254*256) = 127.1.0.1
const PER_SOURCE = 32;
let usedOnSource = 0;
export function attackSource(target: AbuseTarget): string | undefined {
  if (!target.host.startsWith('127.')) return undefined;
  if (usedOnSource >= PER_SOURCE) {
    usedOnSource = 0;
    nextSource++;
    if (nextSource >= 200 * 254 * 256) nextSource = 254 * 256;
  }
  usedOnSource++;
  return sourceAddress(nextSource);
}

export function open(target: AbuseTarget, timeoutMs = 10_000, keyPair?: { publicKey: Uint8Array; secretKey: Uint8Array }): Promise<BenchClient> {
  return openClient(target, hexToBytes(target.keyHex), attackSource(target), timeoutMs, keyPair && { keyPair });
}

export function rawSocket(target: AbuseTarget, timeoutMs = 10_000): Promise<Socket> {
  return connectWithin(target.host, target.port, attackSource(target), timeoutMs);
}

/** Open fds of the server (sockets + files): a relay-agnostic connection count. */
export function pidFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

export interface RssFigures {
  beforeKiB?: number;
  peakKiB?: number;
  afterKiB?: number;
  fdsBefore?: number;
  fdsPeak?: number;
  fdsAfter?: number;
}

/** Samples the server's RSS and fd count every 100 ms until stopped. */
export function serverSampler(pid: number) {
  const fig: RssFigures = { beforeKiB: pidMemory(pid)?.rssKiB, fdsBefore: pidFds(pid) };
  fig.peakKiB = fig.beforeKiB;
  fig.fdsPeak = fig.fdsBefore;
  const sample = () => {
    const rss = pidMemory(pid)?.rssKiB;
    if (rss !== undefined) fig.peakKiB = Math.max(fig.peakKiB ?? 0, rss);
    const fds = pidFds(pid);
    if (fds !== undefined) fig.fdsPeak = Math.max(fig.fdsPeak ?? 0, fds);
  };
  const timer = setInterval(sample, 100);
  return {
    figures: fig,
    sample,
    stop(): RssFigures {
      clearInterval(timer);
      sample();
      fig.afterKiB = pidMemory(pid)?.rssKiB;
      fig.fdsAfter = pidFds(pid);
      return fig;
    },
  };
}

export interface RttFigures {
  samples: number;
  timeouts: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** The legit pair was closed during the attack. */
  closed: boolean;
}

/**
 * A legit linked pair on 127.0.0.x sources: A sends a data packet to B, B echoes it, A measures
 * the round trip; one in flight at a time, at most every `intervalMs`, each waited ≤ 2 s.
 */
export async function legitPair(target: AbuseTarget, n = 0) {
  const key = hexToBytes(target.keyHex);
  const src = target.host.startsWith('127.') ? sourceAddress(2 * n) : undefined;
  const src2 = target.host.startsWith('127.') ? sourceAddress(2 * n + 1) : undefined;
  const a = await openClient(target, key, src, 10_000);
  const b = await openClient(target, key, src2, 10_000).catch((e) => {
    closeClient(a);
    throw e;
  });
  const { aId, bId } = await linkPair(a, b, 10_000).catch((e) => {
    closeClient(a);
    closeClient(b);
    throw e;
  });
  b.client.on('data', (p) => {
    if (p.connId === bId && !b.client.closed) b.client.sendData(bId, p.data);
  });
  const rtts: number[] = [];
  let timeouts = 0;
  let running = false;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let seq = 0;
  const once = async (): Promise<number | undefined> => {
    const id = ++seq;
    const payload = new Uint8Array(64);
    new DataView(payload.buffer).setUint32(0, id);
    const t0 = performance.now();
    const got = a.client.waitFor('data', (p) => p.connId === aId && p.data.length >= 4 && new DataView(p.data.buffer, p.data.byteOffset).getUint32(0) === id, 2000);
    a.client.sendData(aId, payload);
    try {
      await got;
      return performance.now() - t0;
    } catch {
      return undefined;
    }
  };
  return {
    a,
    b,
    once,
    start(intervalMs = 20) {
      running = true;
      loop = (async () => {
        while (running && !stopped && !a.client.closed && !b.client.closed) {
          const t = await once();
          if (t === undefined) timeouts++;
          else rtts.push(t);
          await sleep(intervalMs);
        }
      })();
    },
    async stop(): Promise<RttFigures> {
      running = false;
      await loop;
      const s = ascending(rtts);
      return {
        samples: rtts.length,
        timeouts,
        p50Ms: s.length ? round(percentile(s, 50), 2) : undefined,
        p99Ms: s.length ? round(percentile(s, 99), 2) : undefined,
        maxMs: s.length ? round(s[s.length - 1]!, 2) : undefined,
        closed: a.client.closed || b.client.closed,
      };
    },
    close() {
      stopped = true;
      closeClient(a);
      closeClient(b);
    },
  };
}
