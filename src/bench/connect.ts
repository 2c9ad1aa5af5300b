// Connect, the worker's side: open C connections (TCP connect, handshake, a ping answered, which
// confirms the connection, PROTOCOL §1) with at most K opening at once, and hold them. Keys are
// generated during set-up, so the measured phase is the relay's work, not key generation. After
// the hold, each held connection must answer one more ping (alive), then all are closed. Each
// hello is built in set-up too: a connection then costs the bench one X25519, the relay three.
// Set-up ends with a warm-up, as the other workloads have one: up to WARMUP_CONNECTIONS are
// opened and closed again (within the warm-up time and the set-up deadline, stopping at the first
// failure), so that the measured connections meet a relay past its JIT's warm-up, and the memory
// baseline, read after set-up, includes what the relay keeps from it.

import { performance } from 'node:perf_hooks';
import { createHello } from '../client/handshake.ts';
import { generateKeyPair } from '../client/sodium.ts';
import { type BenchClient, benchKeyAgreement, closeClient, countInto, failureReason, forEachLimit, hexToBytes, openClient, type PreparedIdentity, sourceFor } from './clients.ts';
import type { ConnectWorkerResult, Progress, WorkerJob } from './messages.ts';
import { CpuMeter, type WorkerRun } from './worker-run.ts';

/** Warm-up connections of one worker, at most (and at most its share of measured ones). */
export const WARMUP_CONNECTIONS = 500;
/**
 * After the warm-up's connections are closed, time for the relay to free them before the measured
 * ones. toxrelay does at once; c-toxcore notices neither a FIN nor a reset, only its ping timeout,
 * so tox-bootstrapd holds the warm-up connections through the measured phase (its own behaviour:
 * its memory baseline includes them, its growth per connection does not).
 */
const CLOSE_SETTLE_MS = 200;

export class ConnectRun implements WorkerRun {
  private identities: PreparedIdentity[] = [];
  private readonly held: BenchClient[] = [];
  private readonly failures: Record<string, number> = {};
  private readonly openMs: number[] = [];
  private failed = 0;
  private warmedUp = 0;
  private stopping = false;
  private readonly cpu = new CpuMeter();
  private cpuSample: ConnectWorkerResult['cpu'] | undefined;

  constructor(private readonly job: WorkerJob) {}

  async setup(): Promise<void> {
    const started = performance.now();
    const serverKey = hexToBytes(this.job.target.keyHex);
    this.identities = prepareIdentities(this.job.count, serverKey);
    await this.warmUp(serverKey, started);
  }

  private async warmUp(serverKey: Uint8Array, setupStarted: number): Promise<void> {
    const count = Math.min(WARMUP_CONNECTIONS, this.job.count);
    if (this.job.warmupMs <= 0 || count === 0) return;
    const identities = prepareIdentities(count, serverKey);
    // Within --warmup, and inside the set-up deadline the coordinator waits on.
    const budgetMs = Math.min(this.job.warmupMs, this.job.phaseTimeoutMs - (performance.now() - setupStarted) - CLOSE_SETTLE_MS);
    if (budgetMs <= 0) return;
    const deadline = performance.now() + budgetMs;
    const opened: BenchClient[] = [];
    let failed = false;
    let over = false;
    await forEachLimit(
      count,
      this.job.concurrency,
      async (i) => {
        const left = deadline - performance.now();
        if (failed || left <= 0) return;
        try {
          const local = sourceFor(this.job.target, this.job.perSource, this.job.firstSocket + i);
          const c = await openClient(this.job.target, serverKey, local, Math.min(this.job.stepTimeoutMs, left), identities[i]);
          if (over) closeClient(c); // opened after the warm-up ended: not left behind
          else opened.push(c);
        } catch {
          failed = true; // the measured phase will meet the same trouble and report it
        }
      },
      budgetMs,
    );
    over = true;
    this.warmedUp = opened.length;
    for (const c of opened) closeClient(c);
    await new Promise((resolve) => setTimeout(resolve, CLOSE_SETTLE_MS));
  }

  async go(): Promise<{ ok: number; failed: number }> {
    const key = hexToBytes(this.job.target.keyHex);
    this.cpu.start();
    const finished = await forEachLimit(
      this.job.count,
      this.job.concurrency,
      async (i) => {
        const started = performance.now();
        try {
          const local = sourceFor(this.job.target, this.job.perSource, this.job.firstSocket + i);
          const c = await openClient(this.job.target, key, local, this.job.stepTimeoutMs, this.identities[i]);
          if (this.stopping) {
            closeClient(c); // opened after the deadline: counted as failed below
            return;
          }
          this.openMs.push(performance.now() - started);
          this.held.push(c);
        } catch (error) {
          if (this.stopping) return;
          this.failed++;
          countInto(this.failures, failureReason(error));
        }
      },
      this.job.phaseTimeoutMs,
    );
    this.cpuSample = this.cpu.stop();
    if (!finished) {
      this.stopping = true;
      const missing = this.job.count - this.held.length - this.failed;
      this.failed += missing;
      countInto(this.failures, 'OPENING_TIMEOUT', missing);
    }
    this.identities = [];
    return { ok: this.held.length, failed: this.failed };
  }

  mark(): void {}

  async stop(): Promise<ConnectWorkerResult> {
    this.stopping = true;
    // Every held connection pings at once, so the check takes one step timeout at most.
    const held = this.held.filter((c) => !c.client.closed);
    const pongs = await Promise.allSettled(held.map((c) => c.client.ping(undefined, this.job.stepTimeoutMs)));
    const alive = pongs.filter((p) => p.status === 'fulfilled').length;
    return {
      kind: 'connect',
      requested: this.job.count,
      ok: this.openMs.length,
      failed: this.failed,
      failures: this.failures,
      openMs: this.openMs,
      alive,
      checked: this.held.length,
      warmedUp: this.warmedUp,
      cpu: this.cpuSample ?? this.cpu.stop(),
    };
  }

  progress(): Progress {
    return { rx: 0, rxBytes: 0, lost: 0, corrupt: 0, stalled: 0, opened: this.held.length, failed: this.failed };
  }

  close(): void {
    this.stopping = true;
    for (const c of this.held) closeClient(c);
  }
}

function prepareIdentities(count: number, serverKey: Uint8Array): PreparedIdentity[] {
  return Array.from({ length: count }, () => {
    const keyPair = generateKeyPair();
    return { keyPair, hello: createHello(keyPair, serverKey, benchKeyAgreement()) };
  });
}
