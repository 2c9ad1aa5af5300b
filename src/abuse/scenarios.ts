// The abuse scenarios of issue 6 part 2. Each is bounded in count and time, runs against any Tox
// TCP relay on a loopback address, and returns figures: server RSS before/peak/after, counts, and
// the RTT of a legit linked pair measured while the attack runs.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { type BenchClient, closeClient, forEachLimit, linkPair } from '../bench/clients.ts';
import { round } from '../bench/stats.ts';
import { randomPingId } from '../client/client.ts';
import { encodePing } from '../client/packets.ts';
import { generateKeyPair, ready } from '../client/sodium.ts';
import {
  type AbuseTarget,
  assertLoopback,
  legitPair,
  open,
  rawSocket,
  type RssFigures,
  type RttFigures,
  serverSampler,
  sleep,
} from './common.ts';

export const SCENARIOS = ['slowloris', 'slow-reader', 'ping-flood', 'handshake-flood', 'churn', 'same-key', 'amplification'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioSizes {
  slowlorisIdle: number;
  slowlorisHalf: number;
  slowlorisWaitS: number;
  slowReaderS: number;
  pingFloodMaxS: number;
  handshakes: number;
  handshakeConcurrency: number;
  churnCycles: number;
  sameKeyRounds: number;
  garbageConnections: number;
}

export const FULL: ScenarioSizes = {
  slowlorisIdle: 4000,
  slowlorisHalf: 100,
  slowlorisWaitS: 16,
  slowReaderS: 10,
  pingFloodMaxS: 20,
  handshakes: 20_000,
  handshakeConcurrency: 64,
  churnCycles: 50_000,
  sameKeyRounds: 50,
  garbageConnections: 200,
};

export const QUICK: ScenarioSizes = {
  slowlorisIdle: 1000,
  slowlorisHalf: 100,
  slowlorisWaitS: 14,
  slowReaderS: 3,
  pingFloodMaxS: 10,
  handshakes: 2000,
  handshakeConcurrency: 64,
  churnCycles: 1000,
  sameKeyRounds: 10,
  garbageConnections: 50,
};

export interface ScenarioResult {
  scenario: ScenarioName;
  /** The scenario's invariant held (see `verdict`). */
  ok: boolean;
  verdict: string;
  seconds: number;
  server: RssFigures;
  rtt?: RttFigures;
  counts: Record<string, number | string | boolean | undefined>;
}

type Run = (t: AbuseTarget, s: ScenarioSizes) => Promise<Omit<ScenarioResult, 'scenario' | 'seconds' | 'server' | 'rtt'>>;

/** Waits for `socket` to close (by the peer), up to `ms`; resolves with the ms it took or undefined. */
function closedWithin(socket: Socket, ms: number): Promise<number | undefined> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve(undefined), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

/** Waits for 'drain' or `ms`, whichever comes first, and leaves no listener behind. */
function drainOr(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('drain', done);
  });
}

// ---- slowloris ----

const slowloris: Run = async (t, s) => {
  const sockets: Socket[] = [];
  const closedAt: Array<number | undefined> = [];
  const t0 = performance.now();
  let openFailed = 0;
  const total = s.slowlorisIdle + s.slowlorisHalf;
  await forEachLimit(
    total,
    128,
    async (i) => {
      try {
        const sock = await rawSocket(t, 5000);
        sock.resume();
        const idx = sockets.push(sock) - 1;
        closedAt[idx] = undefined;
        sock.once('close', () => {
          closedAt[idx] = (performance.now() - t0) / 1000;
        });
        // Half-handshakes: 100 of the 128 bytes of a hello (random: the relay cannot tell yet).
        if (i >= s.slowlorisIdle) sock.write(Buffer.alloc(100, 0x5a));
      } catch {
        openFailed++;
      }
    },
    60_000,
  );
  const openedS = (performance.now() - t0) / 1000;
  const deadline = t0 + s.slowlorisWaitS * 1000;
  while (performance.now() < deadline && closedAt.some((c) => c === undefined)) await sleep(250);
  const reaped = closedAt.filter((c) => c !== undefined) as number[];
  const half = closedAt.slice(-s.slowlorisHalf).filter((c) => c !== undefined).length;
  for (const sock of sockets) sock.destroy();
  reaped.sort((a, b) => a - b);
  const ok = sockets.length > 0 && reaped.length === sockets.length;
  return {
    ok,
    verdict: ok ? `all ${sockets.length} reaped` : `${sockets.length - reaped.length} of ${sockets.length} still open after ${s.slowlorisWaitS} s`,
    counts: {
      opened: sockets.length,
      openFailed,
      openedInS: round(openedS, 1),
      reaped: reaped.length,
      halfReaped: half,
      firstReapS: reaped.length ? round(reaped[0]!, 1) : undefined,
      lastReapS: reaped.length ? round(reaped[reaped.length - 1]!, 1) : undefined,
    },
  };
};

// ---- slow reader ----

const slowReader: Run = async (t, s) => {
  const sender = await open(t);
  const reader = await open(t);
  const { aId } = await linkPair(sender, reader, 10_000);
  reader.socket.pause(); // never reads again
  const payload = new Uint8Array(1400).fill(7);
  let sent = 0;
  let sendStalls = 0;
  const end = performance.now() + s.slowReaderS * 1000;
  while (performance.now() < end && !sender.client.closed) {
    // Full speed, but keep our own socket's buffer bounded (a relay that stops reading stalls us).
    for (let i = 0; i < 64 && !sender.client.closed; i++) {
      sender.client.sendData(aId, payload);
      sent++;
    }
    if (sender.socket.writableLength > 1 << 20) {
      sendStalls++;
      await drainOr(sender.socket, 200);
    } else await new Promise((r) => setImmediate(r));
  }
  const senderClosed = sender.client.closed;
  // The sender still works: a ping answered.
  let senderPing = false;
  try {
    await sender.client.ping(undefined, 5000);
    senderPing = true;
  } catch {}
  const readerClosed = reader.client.closed || reader.socket.destroyed;
  closeClient(sender);
  reader.socket.destroy();
  closeClient(reader);
  const ok = !senderClosed && senderPing;
  return {
    ok,
    verdict: ok ? 'sender kept, answered a ping afterwards' : 'sender was closed or stopped answering',
    counts: { packetsSent: sent, mbSent: round((sent * 1400) / 1e6, 1), sendStalls, senderClosed, senderPingOk: senderPing, readerClosedSeen: readerClosed },
  };
};

// ---- ping flood ----

const pingFlood: Run = async (t, s) => {
  const c = await open(t);
  c.socket.pause(); // never reads the PONGs
  let pings = 0;
  let closedAfter: number | undefined;
  const t0 = performance.now();
  let closed = false;
  c.socket.on('close', () => {
    closed = true;
    closedAfter ??= (performance.now() - t0) / 1000;
  });
  c.socket.on('error', () => {
    closed = true;
    closedAfter ??= (performance.now() - t0) / 1000;
  });
  const end = t0 + s.pingFloodMaxS * 1000;
  let stalled = 0;
  while (!closed && performance.now() < end) {
    for (let i = 0; i < 256 && !closed && !c.socket.destroyed; i++) {
      c.client.sendRawBytes(c.client.sealFrame(encodePing(randomPingId()))); // in order with the transport's own writes
      pings++;
    }
    if (c.socket.writableLength > 1 << 20) {
      stalled++;
      await drainOr(c.socket, 200);
    } else await new Promise((r) => setImmediate(r));
  }
  // A relay that closed us may only be seen by a write failing (we never read its FIN).
  if (!closed) {
    await sleep(500);
    for (let i = 0; i < 4 && !closed && !c.socket.destroyed; i++) {
      c.client.sendRawBytes(c.client.sealFrame(encodePing(randomPingId()))); // in order with the transport's own writes
      await sleep(100);
    }
  }
  c.socket.destroy();
  return {
    ok: closed,
    verdict: closed ? `flooder closed by the relay after ${round(closedAfter ?? 0, 2)} s` : `flooder still open after ${s.pingFloodMaxS} s`,
    counts: { pingsSent: pings, kibSent: round((pings * 43) / 1024), closedByRelay: closed, closedAfterS: closedAfter === undefined ? undefined : round(closedAfter, 2), writerStalls: stalled },
  };
};

// ---- handshake flood ----

const handshakeFlood: Run = async (t, s) => {
  let ok = 0;
  let failed = 0;
  const errors: Record<string, number> = {};
  const t0 = performance.now();
  const finished = await forEachLimit(
    s.handshakes,
    s.handshakeConcurrency,
    async () => {
      try {
        const c = await open(t, 10_000);
        ok++;
        c.client.close();
        c.socket.destroy();
      } catch (e) {
        failed++;
        const k = String((e as { code?: string }).code ?? (e as Error).message).slice(0, 40);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    },
    180_000,
  );
  const secs = (performance.now() - t0) / 1000;
  return {
    ok: finished && ok >= s.handshakes * 0.99,
    verdict: `${ok} of ${s.handshakes} handshakes in ${round(secs, 1)} s`,
    counts: { handshakes: ok, failed, perSecond: round(ok / secs), finished, errors: Object.entries(errors).map(([k, v]) => `${k}:${v}`).join(',') || undefined },
  };
};

// ---- churn ----

const churn: Run = async (t, s) => {
  let cycles = 0;
  let failed = 0;
  const t0 = performance.now();
  const finished = await forEachLimit(
    s.churnCycles,
    32,
    async () => {
      const opened: BenchClient[] = [];
      try {
        opened.push(await open(t));
        opened.push(await open(t));
        await linkPair(opened[0]!, opened[1]!, 10_000);
        cycles++;
      } catch {
        failed++;
      } finally {
        for (const c of opened) {
          c.client.close();
          c.socket.destroy();
        }
      }
    },
    300_000,
  );
  const secs = (performance.now() - t0) / 1000;
  await sleep(2000); // closes settle
  // A fresh pair links and relays.
  let freshOk = false;
  try {
    const p = await legitPair(t, 60);
    freshOk = (await p.once()) !== undefined;
    p.close();
  } catch {}
  return {
    ok: finished && freshOk && failed === 0,
    verdict: `${cycles} cycles; fresh pair ${freshOk ? 'links and relays' : 'FAILED'}`,
    counts: { cycles, failed, perSecond: round(cycles / secs), finished, freshPairOk: freshOk },
  };
};

// ---- same key ----

const sameKey: Run = async (t, s) => {
  await ready();
  const key = generateKeyPair();
  const peer = await open(t);
  let current = await open(t, 10_000, key);
  await linkPair(peer, current, 10_000);
  let replacedOld = 0;
  let peerDisc = 0;
  let peerConn = 0;
  let relayOk = 0;
  let failed = 0;
  peer.client.on('disconnectNotification', () => peerDisc++);
  peer.client.on('connectNotification', () => peerConn++);
  for (let r = 0; r < s.sameKeyRounds; r++) {
    const old = current;
    try {
      const oldClosed = closedWithin(old.socket, 5000);
      const next = await open(t, 10_000, key);
      current = next;
      const wasClosed = (await oldClosed) !== undefined;
      if (wasClosed) replacedOld++;
      // The new holder routes to the peer (the peer's own request still stands).
      const up = next.client.waitFor('connectNotification', undefined, 5000);
      next.client.routingRequest(peer.client.publicKey);
      const n = await up;
      // Data flows new → peer.
      const got = peer.client.waitFor('data', undefined, 5000);
      next.client.sendData(n.connId, new Uint8Array([1, 2, 3]));
      await got;
      relayOk++;
    } catch {
      failed++;
    } finally {
      if (old !== current) {
        old.client.close();
        old.socket.destroy();
      }
    }
  }
  await sleep(300);
  closeClient(current);
  closeClient(peer);
  const ok = failed === 0 && replacedOld === s.sameKeyRounds && relayOk === s.sameKeyRounds;
  return {
    ok,
    verdict: ok ? 'each new holder replaced the old; peer notified; data relayed' : `${failed} rounds failed, ${replacedOld} replaced`,
    counts: { rounds: s.sameKeyRounds, oldClosedByRelay: replacedOld, peerDisconnectNotifications: peerDisc, peerConnectNotifications: peerConn, relayedAfterSwap: relayOk, failed },
  };
};

// ---- amplification ----

async function garbageExchange(t: AbuseTarget, bytes: Uint8Array): Promise<{ back: number; closed: boolean }> {
  const sock = await rawSocket(t, 5000);
  let back = 0;
  sock.on('data', (b: Buffer) => {
    back += b.length;
  });
  sock.write(bytes);
  const closed = (await closedWithin(sock, 1500)) !== undefined;
  sock.destroy();
  return { back, closed };
}

const amplification: Run = async (t, s) => {
  const { randomBytes } = await import('node:crypto');
  let tcpSent = 0;
  let tcpBack = 0;
  let tcpClosedEarly = 0;
  const sizes = [1, 2, 64, 127, 128, 129, 200, 1000, 4096, 65_536];
  let n = 0;
  await forEachLimit(
    s.garbageConnections,
    32,
    async (i) => {
      const size = sizes[i % sizes.length]!;
      const bytes = randomBytes(size);
      // Some look like frames: a plausible length prefix then garbage.
      if (i % 3 === 0 && size >= 2) bytes.writeUInt16BE(Math.min(2048, size - 2), 0);
      const r = await garbageExchange(t, bytes);
      n++;
      tcpSent += size;
      tcpBack += r.back;
      if (r.closed) tcpClosedEarly++;
    },
    120_000,
  );
  // UDP: every first byte, a few lengths each.
  let udpSent = 0;
  let udpBack = 0;
  let udpDatagrams = 0;
  const udpBackByKind: Record<string, number> = {};
  if (t.udpPort) {
    const sock = createSocket(t.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => sock.bind(0, t.host.includes(':') ? '::1' : '127.0.0.1', () => r()));
    let lastKind = -1;
    sock.on('message', (m) => {
      udpBack += m.length;
      udpBackByKind[String(lastKind)] = (udpBackByKind[String(lastKind)] ?? 0) + m.length;
    });
    for (let kind = 0; kind < 256; kind++) {
      lastKind = kind;
      for (const len of [1, 33, 57, 100, 200, 400, 1000]) {
        const d = randomBytes(len);
        d[0] = kind;
        sock.send(d, t.udpPort, t.host);
        udpSent += len;
        udpDatagrams++;
      }
      await sleep(5);
    }
    await sleep(1000);
    sock.close();
  }
  const ok = tcpBack === 0 && udpBack === 0;
  return {
    ok,
    verdict: ok ? '0 bytes back for every unauthenticated input' : `${tcpBack} B back over TCP, ${udpBack} B over UDP`,
    counts: {
      tcpConnections: n,
      tcpBytesSent: tcpSent,
      tcpBytesBack: tcpBack,
      tcpClosedWithin1_5s: tcpClosedEarly,
      udpDatagrams: t.udpPort ? udpDatagrams : 'no --udp-port',
      udpBytesSent: udpSent,
      udpBytesBack: udpBack,
      udpBackByKind: Object.keys(udpBackByKind).length ? JSON.stringify(udpBackByKind) : undefined,
    },
  };
};

const RUNS: Record<ScenarioName, Run> = {
  slowloris,
  'slow-reader': slowReader,
  'ping-flood': pingFlood,
  'handshake-flood': handshakeFlood,
  churn,
  'same-key': sameKey,
  amplification,
};

/** Runs one scenario with the server sampler and a legit pair's RTT around it. */
export async function runScenario(name: ScenarioName, t: AbuseTarget, sizes: ScenarioSizes, legitIndex = 0): Promise<ScenarioResult> {
  assertLoopback(t.host);
  const sampler = serverSampler(t.pid);
  let pair: Awaited<ReturnType<typeof legitPair>> | undefined;
  try {
    pair = await legitPair(t, legitIndex);
    pair.start();
  } catch {
    pair = undefined;
  }
  const t0 = performance.now();
  let body: Awaited<ReturnType<Run>>;
  try {
    body = await RUNS[name](t, sizes);
  } catch (error) {
    body = { ok: false, verdict: `error: ${(error as Error).message}`, counts: {} };
  }
  const seconds = round((performance.now() - t0) / 1000, 1);
  const rtt = pair ? await pair.stop() : undefined;
  pair?.close();
  await sleep(1500); // let closes reach the server before the "after" figure
  const server = sampler.stop();
  return { scenario: name, ...body, seconds, server, ...(rtt ? { rtt } : {}) };
}
