// What every workload's worker side implements, and the CPU meter they share.

import { performance } from 'node:perf_hooks';
import type { CpuSample, Progress, WorkerResult } from './messages.ts';
import { processCpuSeconds, threadCpuSeconds } from './proc.ts';

export interface WorkerRun {
  /** Before the clock starts: connect and link the pairs, or pre-generate keys. */
  setup(): Promise<void>;
  /** Start the load. Resolves with the opened/failed counts for connect, undefined otherwise. */
  go(): Promise<{ ok: number; failed: number } | undefined>;
  /** The measured window starts. */
  mark(): void;
  /** The measured window ends: stop, drain, verify, and say what happened. */
  stop(): Promise<WorkerResult>;
  progress(): Progress;
  /** Close every socket (the run is over or aborted). */
  close(): void;
}

/** The worker's CPU time and event-loop utilisation between start() and stop(). */
export class CpuMeter {
  private wall = 0;
  private thread: number | undefined;
  private proc = 0;
  private elu: ReturnType<typeof performance.eventLoopUtilization> | undefined;

  start(): void {
    this.wall = performance.now();
    this.thread = threadCpuSeconds();
    this.proc = processCpuSeconds();
    this.elu = performance.eventLoopUtilization();
  }

  stop(): CpuSample {
    if (!this.elu) this.start();
    const wallS = (performance.now() - this.wall) / 1000;
    const thread = threadCpuSeconds();
    const sample: CpuSample = {
      wallS,
      processS: processCpuSeconds() - this.proc,
      elu: performance.eventLoopUtilization(this.elu).utilization,
    };
    if (thread !== undefined && this.thread !== undefined) sample.threadS = thread - this.thread;
    return sample;
  }
}
