// Throughput, the worker's side: P linked pairs, each side sending S-byte data packets to the
// other with at most W in flight.
//
// Flow control (a window with cumulative acknowledgements):
// - in flight = sent by a side and not yet acknowledged by its peer;
// - the receiver acknowledges with an ACK payload carrying the next sequence number it expects,
//   every W/2 data packets, and at least every ACK_EVERY_MS while some are unacknowledged;
// - the relay may drop data (PROTOCOL §6), so a gap in the sequence counts as loss and the ACK
//   moves past it; a sender that heard no ACK for PROBE_AFTER_MS sends a PROBE carrying its next
//   sequence number: the link keeps order, so when the probe arrives every earlier packet has
//   arrived or been dropped, and the receiver counts the missing ones as lost and acknowledges.
// So the window never deadlocks on a lost packet, and loss is counted exactly.
// A pair with no packet received either way for the stall time is reported as stalled (the
// tox-bootstrapd loopback wedge, PROTOCOL §13), not waited for.

import { performance } from 'node:perf_hooks';
import type { RelayClient } from '../client/client.ts';
import { type BenchClient, closeClient, setupPairs } from './clients.ts';
import type { Progress, ThroughputWorkerResult, WorkerJob } from './messages.ts';
import { CONTROL_PAYLOAD_SIZE, PayloadKind, PayloadWriter, readPayload } from './payload.ts';
import { CpuMeter, type WorkerRun } from './worker-run.ts';

const ACK_EVERY_MS = 50;
const PROBE_AFTER_MS = 300;
const TICK_MS = 25;
/** After stop, how long in-flight packets get to be acknowledged or found lost. */
export const DRAIN_MS = 3000;
const MAX_STALLS_LISTED = 50;

class Side {
  peer!: Side;
  // sending
  nextSeq = 0;
  acked = 0;
  lastAckRxAt = 0;
  lastProbeTxAt = 0;
  probes = 0;
  // receiving
  expected = 0;
  received = 0;
  rxBytes = 0;
  lost = 0;
  outOfOrder = 0;
  corrupt = 0;
  unacked = 0;
  lastAckTxAt = 0;
  ackDue = false;
  acks = 0;
  closed = false;

  constructor(
    readonly bench: BenchClient,
    readonly connId: number,
    readonly pair: Pair,
  ) {}

  get client(): RelayClient {
    return this.bench.client;
  }
}

class Pair {
  a!: Side;
  b!: Side;
  lastProgressAt = 0;
  /** Data arrived since the last tick, which stamps lastProgressAt (no clock read per packet). */
  progressed = false;
  stalledNow = false;
  stalledAtS: number | undefined;
  markRx = 0;
  markBytes = 0;
  markLost = 0;
  windowRx = 0;
  windowBytes = 0;
  windowLost = 0;

  constructor(readonly number: number) {}

  get rx(): number {
    return this.a.received + this.b.received;
  }
  get bytes(): number {
    return this.a.rxBytes + this.b.rxBytes;
  }
  get lost(): number {
    return this.a.lost + this.b.lost;
  }
  get closed(): boolean {
    return this.a.closed || this.b.closed;
  }
}

export class ThroughputRun implements WorkerRun {
  private readonly pairs: Pair[] = [];
  private readonly clients: BenchClient[] = [];
  private readonly setupErrors: Record<string, number> = {};
  private failedPairs = 0;
  private readonly data: PayloadWriter;
  private readonly control = new PayloadWriter(CONTROL_PAYLOAD_SIZE);
  private readonly ackEvery: number;
  private sending = false;
  private goAt = 0;
  private markAt = 0;
  private stopAt = 0;
  private readonly dirty = new Set<Side>();
  private flushScheduled = false;
  private tick: ReturnType<typeof setInterval> | undefined;
  private readonly cpu = new CpuMeter();
  private cpuSample: ThroughputWorkerResult['cpu'] | undefined;

  constructor(private readonly job: WorkerJob) {
    this.data = new PayloadWriter(job.size);
    this.ackEvery = Math.max(1, Math.floor(job.window / 2));
  }

  async setup(): Promise<void> {
    const setup = await setupPairs(this.job);
    this.failedPairs = setup.failed;
    Object.assign(this.setupErrors, setup.errors);
    for (const linked of setup.pairs) {
      const pair = new Pair(linked.number);
      pair.a = this.side(linked.a, linked.aId, pair);
      pair.b = this.side(linked.b, linked.bId, pair);
      pair.a.peer = pair.b;
      pair.b.peer = pair.a;
      this.pairs.push(pair);
      this.clients.push(linked.a, linked.b);
    }
  }

  private side(bench: BenchClient, connId: number, pair: Pair): Side {
    const side = new Side(bench, connId, pair);
    bench.client.on('data', (packet) => {
      if (packet.connId === side.connId) this.receive(side, packet.data);
    });
    bench.client.on('close', () => {
      side.closed = true;
    });
    return side;
  }

  go(): Promise<undefined> {
    const now = performance.now();
    this.goAt = now;
    this.sending = true;
    for (const pair of this.pairs) {
      pair.lastProgressAt = now;
      for (const side of [pair.a, pair.b]) {
        side.lastAckRxAt = now;
        side.lastAckTxAt = now;
        this.dirty.add(side);
      }
    }
    this.scheduleFlush();
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    return Promise.resolve(undefined);
  }

  mark(): void {
    this.markAt = performance.now();
    this.cpu.start();
    for (const pair of this.pairs) {
      pair.markRx = pair.rx;
      pair.markBytes = pair.bytes;
      pair.markLost = pair.lost;
    }
  }

  async stop(): Promise<ThroughputWorkerResult> {
    if (this.markAt === 0) this.mark(); // stopped during the warm-up: an empty window
    this.stopAt = performance.now();
    this.cpuSample = this.cpu.stop();
    this.sending = false;
    for (const pair of this.pairs) {
      pair.windowRx = pair.rx - pair.markRx;
      pair.windowBytes = pair.bytes - pair.markBytes;
      pair.windowLost = pair.lost - pair.markLost;
    }
    // Drain: every side's in-flight packets acknowledged (ACKs and PROBEs go on from the tick).
    const drainEnd = performance.now() + DRAIN_MS;
    while (performance.now() < drainEnd && this.pairs.some((p) => !p.closed && (p.a.acked < p.a.nextSeq || p.b.acked < p.b.nextSeq))) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    clearInterval(this.tick);
    return this.result();
  }

  progress(): Progress {
    let rx = 0;
    let rxBytes = 0;
    let lost = 0;
    let corrupt = 0;
    let stalled = 0;
    for (const p of this.pairs) {
      rx += p.rx;
      rxBytes += p.bytes;
      lost += p.lost;
      corrupt += p.a.corrupt + p.b.corrupt;
      if (p.stalledNow) stalled++;
    }
    return { rx, rxBytes, lost, corrupt, stalled, opened: this.pairs.length, failed: this.failedPairs };
  }

  close(): void {
    clearInterval(this.tick);
    this.sending = false;
    for (const c of this.clients) closeClient(c);
  }

  // ---- the data path ----

  private receive(side: Side, bytes: Uint8Array): void {
    const payload = readPayload(bytes);
    if (!payload) {
      side.corrupt++;
      return;
    }
    switch (payload.kind) {
      case PayloadKind.DATA: {
        side.pair.progressed = true;
        if (payload.seq < side.expected) {
          side.outOfOrder++;
          return;
        }
        side.lost += payload.seq - side.expected;
        side.expected = payload.seq + 1;
        side.received++;
        side.rxBytes += payload.size;
        if (++side.unacked >= this.ackEvery) this.wantAck(side);
        return;
      }
      case PayloadKind.ACK: {
        const now = performance.now();
        side.pair.lastProgressAt = now;
        side.lastAckRxAt = now;
        if (payload.seq > side.acked) side.acked = Math.min(payload.seq, side.nextSeq);
        this.dirty.add(side);
        this.scheduleFlush();
        return;
      }
      case PayloadKind.PROBE:
        if (payload.seq > side.expected) {
          side.lost += payload.seq - side.expected;
          side.expected = payload.seq;
        }
        this.wantAck(side);
        return;
      default:
        side.corrupt++; // a kind this workload never sends
    }
  }

  private wantAck(side: Side): void {
    side.ackDue = true;
    this.dirty.add(side);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what each dirty side owes, batched: one socket write per side per turn. */
  private flush(): void {
    this.flushScheduled = false;
    const now = performance.now();
    const window = this.job.window;
    for (const side of this.dirty) {
      if (side.closed || side.client.closed) {
        side.closed = true;
        continue;
      }
      try {
        side.client.batch(() => this.sendOwed(side, now, window));
      } catch {
        side.closed = true; // the client closed under us
      }
    }
    this.dirty.clear();
  }

  /** What one side owes: an ACK, a PROBE, and data up to the window. */
  private sendOwed(side: Side, now: number, window: number): void {
    if (side.ackDue) {
      side.ackDue = false;
      side.unacked = 0;
      side.lastAckTxAt = now;
      side.acks++;
      side.client.sendData(side.connId, this.control.build(PayloadKind.ACK, side.expected));
    }
    if (side.lastProbeTxAt === -1) {
      side.lastProbeTxAt = now;
      side.probes++;
      side.client.sendData(side.connId, this.control.build(PayloadKind.PROBE, side.nextSeq));
    }
    if (this.sending) {
      // Bounded by the window: at most `window` packets per turn.
      while (side.nextSeq - side.acked < window) {
        side.client.sendData(side.connId, this.data.build(PayloadKind.DATA, side.nextSeq));
        side.nextSeq++;
      }
    }
  }

  private onTick(): void {
    const now = performance.now();
    for (const pair of this.pairs) {
      for (const side of [pair.a, pair.b]) {
        if (side.closed) continue;
        if (side.unacked > 0 && now - side.lastAckTxAt >= ACK_EVERY_MS) this.wantAck(side);
        const quietFor = now - Math.max(side.lastAckRxAt, side.lastProbeTxAt);
        if (side.nextSeq > side.acked && quietFor >= PROBE_AFTER_MS) {
          side.lastProbeTxAt = -1; // flush() sends the probe and stamps the time
          this.dirty.add(side);
          this.scheduleFlush();
        }
      }
      if (pair.progressed) {
        pair.progressed = false;
        pair.lastProgressAt = now;
      }
      if (this.sending) {
        const stalled = !pair.closed && now - pair.lastProgressAt >= this.job.stallMs;
        if (stalled && pair.stalledAtS === undefined) pair.stalledAtS = (now - this.goAt) / 1000;
        pair.stalledNow = stalled;
      }
    }
  }

  private result(): ThroughputWorkerResult {
    let sent = 0;
    let received = 0;
    let lost = 0;
    let outOfOrder = 0;
    let corrupt = 0;
    let unresolved = 0;
    let acks = 0;
    let probes = 0;
    let windowPackets = 0;
    let windowBytes = 0;
    let windowLost = 0;
    const perPair: number[] = [];
    const stalls: ThroughputWorkerResult['stalls'] = [];
    let stalledPairs = 0;
    let closedPairs = 0;
    for (const p of this.pairs) {
      for (const s of [p.a, p.b]) {
        sent += s.nextSeq;
        received += s.received;
        lost += s.lost;
        outOfOrder += s.outOfOrder;
        corrupt += s.corrupt;
        unresolved += s.nextSeq - s.peer.expected;
        acks += s.acks;
        probes += s.probes;
      }
      windowPackets += p.windowRx;
      windowBytes += p.windowBytes;
      windowLost += p.windowLost;
      perPair.push(p.windowRx);
      if (p.closed) closedPairs++;
      if (p.stalledAtS !== undefined) {
        stalledPairs++;
        if (stalls.length < MAX_STALLS_LISTED) stalls.push({ pair: p.number, atS: round3(p.stalledAtS) });
      }
    }
    return {
      kind: 'throughput',
      pairs: this.pairs.length,
      failedPairs: this.failedPairs,
      setupErrors: this.setupErrors,
      windowS: (this.stopAt - this.markAt) / 1000,
      perPair,
      windowPackets,
      windowBytes,
      windowLost,
      sent,
      received,
      lost,
      outOfOrder,
      corrupt,
      unresolved,
      acks,
      probes,
      closedPairs,
      stalledPairs,
      stalls,
      cpu: this.cpuSample!,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
