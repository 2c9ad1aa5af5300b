// How a bench worker starts: the coordinator loads *this module's own file* as the worker,
// flagged, and this module's top level sees the flag and serves. From the bundle (build/cli.js,
// which imports this module for its side effect) the file is the bundle itself; under tsx it is
// this .ts file. Unflagged, importing this module does nothing, and it imports nothing heavy:
// the worker code is loaded only in a worker.

import { isMainThread, workerData } from 'node:worker_threads';

/** workerData of a bench worker thread. */
export const WORKER_FLAG = 'toxrelayBenchWorker';
/** Set in a bench worker process's environment (child_process.fork). */
export const CHILD_ENV = 'TOXRELAY_BENCH_WORKER';

/** The file a worker thread or process loads: this module's own. */
export const benchWorkerUrl: URL = new URL(import.meta.url);

function flagged(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>)[WORKER_FLAG] === true;
}

if (!isMainThread && flagged(workerData)) {
  void import('./worker.ts').then((w) => w.serveThread());
} else if (isMainThread && process.env[CHILD_ENV] === '1' && typeof process.send === 'function') {
  delete process.env[CHILD_ENV]; // nothing this process starts is a worker
  void import('./worker.ts').then((w) => w.serveProcess());
}
