// Latency, the worker's side: P linked pairs, each ping-ponging one data packet at a time.
// Side a sends PING n; side b answers PONG n at once; a takes the round-trip time and sends
// PING n+1. A ping not answered within the stall time counts as a timeout and is replaced by a
// new one (a late PONG for it is then ignored), so a wedged pair cannot hang the run.
// While it runs, the worker's event loop polls instead of sleeping (keepPolling): waking a
// sleeping thread costs ~100 µs on a virtual machine, and that is the client's cost, not the relay's.
// A turn of the loop in which no packet arrived counts as polling, not work (CpuSample.pollingS).

import { performance } from 'node:perf_hooks';
import { type BenchClient, closeClient, setupPairs } from './clients.ts';
import type { LatencyWorkerResult, Progress, WorkerJob } from './messages.ts';
import { PayloadKind, PayloadWriter, readPayload } from './payload.ts';
import { CpuMeter, type WorkerRun } from './worker-run.ts';

/** Round-trip samples kept per worker (8 bytes each); beyond, they are counted but not kept. */
export const MAX_SAMPLES = 2_000_000;
const TICK_MS = 50;
const MAX_STALLS_LISTED = 50;

interface PingPair {
  number: number;
  a: BenchClient;
  b: BenchClient;
  aId: number;
  bId: number;
  seq: number;
  sentAt: number;
  waiting: boolean;
  roundTrips: number;
  timeouts: number;
  corrupt: number;
  closed: boolean;
  stalledNow: boolean;
  stalledAtS: number | undefined;
}

export class LatencyRun implements WorkerRun {
  private readonly pairs: PingPair[] = [];
  private readonly setupErrors: Record<string, number> = {};
  private failedPairs = 0;
  private readonly writer: PayloadWriter;
  private running = false;
  private measuring = false;
  private goAt = 0;
  private markAt = 0;
  private stopAt = 0;
  private samples = new Float64Array(1024);
  private sampleCount = 0;
  private dropped = 0;
  private tick: ReturnType<typeof setInterval> | undefined;
  private readonly cpu = new CpuMeter();
  private packetsSeen = 0;
  private packetsAtLastTurn = 0;
  private lastTurnAt = 0;
  private pollingMs = 0;
  private readonly keepPolling = (): void => {
    const now = performance.now();
    if (this.measuring && this.packetsSeen === this.packetsAtLastTurn) this.pollingMs += now - this.lastTurnAt;
    this.lastTurnAt = now;
    this.packetsAtLastTurn = this.packetsSeen;
    if (this.running) setImmediate(this.keepPolling);
  };

  constructor(private readonly job: WorkerJob) {
    this.writer = new PayloadWriter(job.size);
  }

  async setup(): Promise<void> {
    const setup = await setupPairs(this.job);
    this.failedPairs = setup.failed;
    Object.assign(this.setupErrors, setup.errors);
    for (const { number, a, b, aId, bId } of setup.pairs) {
      const pair: PingPair = {
        number,
        a,
        b,
        aId,
        bId,
        seq: 0,
        sentAt: 0,
        waiting: false,
        roundTrips: 0,
        timeouts: 0,
        corrupt: 0,
        closed: false,
        stalledNow: false,
        stalledAtS: undefined,
      };
      // b answers every PING at once; a times the PONG of its outstanding ping and sends the next.
      b.client.on('data', (packet) => {
        if (packet.connId !== bId) return;
        this.packetsSeen++;
        const p = readPayload(packet.data);
        if (!p || p.kind !== PayloadKind.PING) {
          pair.corrupt++;
          return;
        }
        this.send(pair, b, bId, PayloadKind.PONG, p.seq);
      });
      a.client.on('data', (packet) => {
        if (packet.connId !== aId) return;
        this.packetsSeen++;
        const p = readPayload(packet.data);
        if (!p || p.kind !== PayloadKind.PONG) {
          pair.corrupt++;
          return;
        }
        if (!pair.waiting || p.seq !== pair.seq) return; // the answer to a ping that timed out
        this.answered(pair, performance.now());
      });
      for (const c of [a, b]) c.client.on('close', () => (pair.closed = true));
      this.pairs.push(pair);
    }
  }

  go(): Promise<undefined> {
    this.running = true;
    this.goAt = performance.now();
    for (const pair of this.pairs) this.ping(pair);
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    this.keepPolling();
    return Promise.resolve(undefined);
  }

  mark(): void {
    this.markAt = performance.now();
    this.cpu.start();
    this.pollingMs = 0;
    this.lastTurnAt = this.markAt;
    this.measuring = true;
  }

  stop(): Promise<LatencyWorkerResult> {
    if (this.markAt === 0) this.mark(); // stopped during the warm-up: an empty window
    this.stopAt = performance.now();
    const cpu = { ...this.cpu.stop(), pollingS: this.pollingMs / 1000 };
    this.measuring = false;
    this.running = false;
    clearInterval(this.tick);
    let timeouts = 0;
    let corrupt = 0;
    let closedPairs = 0;
    let stalledPairs = 0;
    const stalls: LatencyWorkerResult['stalls'] = [];
    for (const p of this.pairs) {
      timeouts += p.timeouts;
      corrupt += p.corrupt;
      if (p.closed) closedPairs++;
      if (p.stalledAtS !== undefined) {
        stalledPairs++;
        if (stalls.length < MAX_STALLS_LISTED) stalls.push({ pair: p.number, atS: Math.round(p.stalledAtS * 1000) / 1000 });
      }
    }
    return Promise.resolve({
      kind: 'latency',
      pairs: this.pairs.length,
      failedPairs: this.failedPairs,
      setupErrors: this.setupErrors,
      windowS: (this.stopAt - this.markAt) / 1000,
      samplesUs: Array.from(this.samples.subarray(0, this.sampleCount)),
      dropped: this.dropped,
      timeouts,
      corrupt,
      closedPairs,
      stalledPairs,
      stalls,
      cpu,
    });
  }

  progress(): Progress {
    let rx = 0;
    let corrupt = 0;
    let stalled = 0;
    let lost = 0;
    for (const p of this.pairs) {
      rx += p.roundTrips;
      corrupt += p.corrupt;
      lost += p.timeouts;
      if (p.stalledNow) stalled++;
    }
    return { rx, rxBytes: rx * 2 * this.job.size, lost, corrupt, stalled, opened: this.pairs.length, failed: this.failedPairs };
  }

  close(): void {
    this.running = false;
    clearInterval(this.tick);
    for (const p of this.pairs) {
      closeClient(p.a);
      closeClient(p.b);
    }
  }

  private ping(pair: PingPair): void {
    if (!this.running || pair.closed) return;
    pair.seq++;
    pair.waiting = true;
    pair.sentAt = performance.now();
    this.send(pair, pair.a, pair.aId, PayloadKind.PING, pair.seq);
  }

  private answered(pair: PingPair, now: number): void {
    pair.waiting = false;
    pair.roundTrips++;
    pair.stalledNow = false;
    if (this.measuring) this.sample((now - pair.sentAt) * 1000);
    this.ping(pair);
  }

  private send(pair: PingPair, c: BenchClient, connId: number, kind: typeof PayloadKind.PING | typeof PayloadKind.PONG, seq: number): void {
    if (pair.closed || c.client.closed) {
      pair.closed = true;
      return;
    }
    try {
      c.client.sendData(connId, this.writer.build(kind, seq));
    } catch {
      pair.closed = true;
    }
  }

  private sample(us: number): void {
    if (this.sampleCount === this.samples.length) {
      if (this.sampleCount >= MAX_SAMPLES) {
        this.dropped++;
        return;
      }
      const grown = new Float64Array(Math.min(MAX_SAMPLES, this.samples.length * 2));
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.sampleCount++] = us;
  }

  private onTick(): void {
    const now = performance.now();
    for (const pair of this.pairs) {
      if (pair.closed || !pair.waiting) continue;
      if (now - pair.sentAt >= this.job.stallMs) {
        pair.timeouts++;
        pair.stalledNow = true;
        pair.stalledAtS ??= (now - this.goAt) / 1000;
        this.ping(pair);
      }
    }
  }
}
