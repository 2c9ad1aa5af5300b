// A bench worker: it answers the coordinator's messages (messages.ts) by running one workload's
// share. The same code serves a worker thread, a worker process and the in-process mode.

import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { ready } from '../client/sodium.ts';
import { ConnectRun } from './connect.ts';
import { LatencyRun } from './latency.ts';
import type { Channel, FromWorker, ToWorker, WorkerJob } from './messages.ts';
import { ThroughputRun } from './throughput.ts';
import type { WorkerRun } from './worker-run.ts';

const PROGRESS_MS = 250;

function createRun(job: WorkerJob): WorkerRun {
  switch (job.workload) {
    case 'throughput':
      return new ThroughputRun(job);
    case 'latency':
      return new LatencyRun(job);
    case 'connect':
      return new ConnectRun(job);
  }
}

/** Serves one coordinator over `channel` until it says exit. */
export function serve(channel: Channel<ToWorker, FromWorker>): void {
  let run: WorkerRun | undefined;
  let progressTimer: ReturnType<typeof setInterval> | undefined;
  const post = (message: FromWorker) => channel.send(message);
  const fail = (error: unknown) => post({ t: 'error', message: error instanceof Error ? error.message : String(error) });

  const handle = async (message: ToWorker): Promise<void> => {
    switch (message.t) {
      case 'job': {
        await ready();
        run = createRun(message.job);
        const r = run;
        progressTimer = setInterval(() => post({ t: 'progress', progress: r.progress() }), PROGRESS_MS);
        await r.setup();
        post({ t: 'progress', progress: r.progress() });
        post({ t: 'ready' });
        return;
      }
      case 'go': {
        const opened = await run?.go();
        if (run && opened) {
          post({ t: 'progress', progress: run.progress() });
          post({ t: 'opened', ...opened });
        }
        return;
      }
      case 'mark':
        run?.mark();
        return;
      case 'stop': {
        if (!run) throw new Error('stop before job');
        const result = await run.stop();
        post({ t: 'progress', progress: run.progress() });
        post({ t: 'result', result });
        return;
      }
      case 'exit':
        clearInterval(progressTimer);
        run?.close();
        channel.close();
        return;
    }
  };
  channel.onMessage((message) => {
    handle(message).catch(fail);
  });
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  post({ t: 'hello', youngGenerationBytes: newSpace?.space_size ?? 0 });
}

/** The worker-thread end of the link. */
export function serveThread(): void {
  const port = parentPort;
  if (!port) throw new Error('serveThread() outside a worker thread');
  serve({
    send: (m) => port.postMessage(m),
    onMessage: (h) => port.on('message', h),
    close: () => port.close(),
  });
}

/** The worker-process end of the link (child_process.fork with an IPC channel). */
export function serveProcess(): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('serveProcess() without an IPC channel');
  // A coordinator that dies leaves no worker behind.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
  serve({
    send: (m) => {
      // After a disconnect (the coordinator died) a late progress message would throw.
      if (process.connected) send(m);
    },
    onMessage: (h) => process.on('message', (m) => h(m as ToWorker)),
    close: () => process.disconnect(),
  });
}
