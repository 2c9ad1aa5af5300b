// Opening bench clients: RelayClient (src/client) over a TCP socket from a chosen loopback source
// address, with a deadline on every step, and linking two of them to each other (PROTOCOL §5.1).

import { connect, type Socket } from 'node:net';
import { RelayClient } from '../client/client.ts';
import type { PreparedHello } from '../client/handshake.ts';
import { assertSodiumReady, type KeyPair, sodium } from '../client/sodium.ts';
import type { KeyAgreement } from '../crypto/key-agreement.ts';
import { nativeKeyAgreement } from '../crypto/key-agreement-node.ts';
import { tcpTransport } from '../client/tcp.ts';
import type { WorkerJob } from './messages.ts';
import { spreadsSources, type Target } from './options.ts';

/** Pairs one worker sets up at once. */
const SETUP_CONCURRENCY = 32;

export interface BenchClient {
  readonly client: RelayClient;
  /** Kept to destroy it if the relay never answers the FIN. */
  readonly socket: Socket;
}

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * The n-th loopback source address: 127.0.0.1, 127.0.0.2, … 127.0.0.254, 127.0.1.1, … (every
 * 127/8 address is the loopback interface's on Linux). Octets 0 and 255 are skipped.
 */
export function sourceAddress(n: number): string {
  return `127.${Math.floor(n / (254 * 256)) % 256}.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
}

/** The source address of a job's socket number `socket`, or undefined when the kernel picks it. */
export function sourceFor(target: Target, perSource: number, socket: number): string | undefined {
  if (perSource <= 0 || !spreadsSources(target.host)) return undefined;
  return sourceAddress(Math.floor(socket / perSource));
}

/** A TCP connection with a deadline (a SYN to a full listen backlog is retried for minutes). */
export function connectWithin(host: string, port: number, localAddress: string | undefined, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(localAddress ? { host, port, localAddress } : { host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`TCP connect took over ${timeoutMs} ms`), { code: 'CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // the transport records it; a late error must not throw
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

let agreement: KeyAgreement | undefined;

/** Node's native X25519 for the bench's clients, whose CPU the relay shares. Needs sodium ready. */
export function benchKeyAgreement(): KeyAgreement {
  assertSodiumReady(); // a check before it would fail and fall back for good
  agreement ??= nativeKeyAgreement(sodium);
  return agreement;
}

/** A client identity, with its hello when made during set-up (opening then costs the bench little). */
export interface PreparedIdentity {
  keyPair: KeyPair;
  hello?: PreparedHello;
}

/** Connects, handshakes and confirms (a ping answered). Closes everything on failure. */
export async function openClient(
  target: Target,
  serverKey: Uint8Array,
  localAddress: string | undefined,
  timeoutMs: number,
  identity?: PreparedIdentity,
  transientData = false,
): Promise<BenchClient> {
  const socket = await connectWithin(target.host, target.port, localAddress, timeoutMs);
  const client = new RelayClient({
    transport: tcpTransport(socket),
    serverPublicKey: serverKey,
    keyAgreement: benchKeyAgreement(),
    transientData,
    ...(identity ? { keyPair: identity.keyPair } : {}),
    ...(identity?.hello ? { hello: identity.hello } : {}),
    handshakeTimeoutMs: timeoutMs,
    pingTimeoutMs: timeoutMs,
  });
  try {
    await client.connect();
  } catch (error) {
    client.close();
    socket.destroy();
    throw error;
  }
  return { client, socket };
}

export function closeClient(c: BenchClient): void {
  c.client.close();
  // close() ends the stream politely; a relay that never answers the FIN must not keep the fd.
  setTimeout(() => c.socket.destroy(), 1000).unref();
}

/** Mutual routing requests, then both connect notifications: each side's conn_id for the other. */
export async function linkPair(a: BenchClient, b: BenchClient, timeoutMs: number): Promise<{ aId: number; bId: number }> {
  const aUp = a.client.waitFor('connectNotification', undefined, timeoutMs);
  const bUp = b.client.waitFor('connectNotification', undefined, timeoutMs);
  // Both promises are awaited below; keep an early rejection of one from being unhandled.
  aUp.catch(() => {});
  bUp.catch(() => {});
  a.client.routingRequest(b.client.publicKey);
  b.client.routingRequest(a.client.publicKey);
  const [na, nb] = await Promise.all([aUp, bUp]);
  return { aId: na.connId, bId: nb.connId };
}

/** A short label for a failure, so that failures can be counted by kind. */
export function failureReason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return String(e?.message ?? error).slice(0, 80);
}

export function countInto(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

/**
 * Runs fn(0) … fn(n−1) with at most `limit` running at once. Resolves true once every one has
 * settled, or false at `deadlineMs` (if given) with some still unstarted or running: the caller
 * then tells fn to give up (those still running keep their own step timeouts).
 */
export async function forEachLimit(n: number, limit: number, fn: (i: number) => Promise<void>, deadlineMs?: number): Promise<boolean> {
  let next = 0;
  let expired = false;
  const lane = async () => {
    while (next < n && !expired) {
      const i = next++;
      try {
        await fn(i);
      } catch {
        // fn records its own failures
      }
    }
  };
  const all = Promise.all(Array.from({ length: Math.max(1, Math.min(limit, n)) }, lane)).then(() => true);
  if (deadlineMs === undefined) return all;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      resolve(false);
    }, deadlineMs);
  });
  try {
    return await Promise.race([all, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Two clients linked to each other, and each one's conn_id for the other. */
export interface LinkedPair {
  /** The pair's global number (for stall reports). */
  number: number;
  a: BenchClient;
  b: BenchClient;
  aId: number;
  bId: number;
}

export interface PairSetup {
  pairs: LinkedPair[];
  failed: number;
  errors: Record<string, number>;
}

/**
 * Opens and links a job's pairs, SETUP_CONCURRENCY at a time, within the job's phase timeout.
 * Their data packets are transient (RelayClientOptions.transientData): the workloads read each
 * payload inside the listener.
 */
export async function setupPairs(job: WorkerJob): Promise<PairSetup> {
  const key = hexToBytes(job.target.keyHex);
  const pairs: LinkedPair[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let expired = false;
  const finished = await forEachLimit(
    job.count,
    SETUP_CONCURRENCY,
    async (i) => {
      const socket = job.firstSocket + 2 * i;
      const opened: BenchClient[] = [];
      try {
        opened.push(await openClient(job.target, key, sourceFor(job.target, job.perSource, socket), job.stepTimeoutMs, undefined, true));
        opened.push(await openClient(job.target, key, sourceFor(job.target, job.perSource, socket + 1), job.stepTimeoutMs, undefined, true));
        const [a, b] = opened as [BenchClient, BenchClient];
        const { aId, bId } = await linkPair(a, b, job.stepTimeoutMs);
        if (expired) throw new Error('late');
        pairs.push({ number: job.firstSocket / 2 + i, a, b, aId, bId });
      } catch (error) {
        for (const c of opened) closeClient(c);
        if (expired) return; // counted below
        failed++;
        countInto(errors, failureReason(error));
      }
    },
    job.phaseTimeoutMs,
  );
  if (!finished) {
    expired = true;
    const missing = job.count - pairs.length - failed;
    failed += missing;
    countInto(errors, 'SETUP_TIMEOUT', missing);
  }
  pairs.sort((x, y) => x.number - y.number);
  return { pairs, failed, errors };
}
