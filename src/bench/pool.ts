// Starting the workers and talking to them: threads (the default), processes (when the sockets
// need more file descriptors than one process has: threads share the process's fd table), or
// in-process (threads = 0, for debugging). Every wait has a deadline; a worker that misses one
// is terminated and its absence reported, never waited for.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { benchWorkerUrl, CHILD_ENV, WORKER_FLAG } from './entry.ts';
import type { FromWorker, Progress, ToWorker } from './messages.ts';
import { YOUNG_GENERATION_FLAGS } from '../young-generation.ts';

export type PoolMode = 'threads' | 'processes' | 'inline';

type MessageOf<T extends FromWorker['t']> = Extract<FromWorker, { t: T }>;

export class WorkerHandle {
  progress: Progress | undefined;
  /** The worker's V8 new space, from its hello. */
  youngGenerationBytes = 0;
  /** Set once the worker exited, errored or was terminated. */
  gone: string | undefined;
  private readonly inbox: FromWorker[] = [];
  private waiter: (() => void) | undefined;

  constructor(
    readonly index: number,
    /** The worker process's PID (processes), or undefined. */
    readonly pid: number | undefined,
    private readonly sendImpl: (m: ToWorker) => void,
    private readonly killImpl: () => Promise<void>,
  ) {}

  /** Called by the transport for every message from the worker. */
  deliver(message: FromWorker): void {
    if (message.t === 'progress') {
      this.progress = message.progress;
      return;
    }
    this.inbox.push(message);
    this.waiter?.();
  }

  /** Called by the transport when the worker ends. */
  ended(why: string): void {
    this.gone ??= why;
    this.waiter?.();
  }

  send(message: ToWorker): void {
    if (this.gone) return;
    try {
      this.sendImpl(message);
    } catch (error) {
      this.ended(`send failed: ${(error as Error).message}`);
    }
  }

  /** The next message of kind `t`; rejects on a worker error, exit, or after timeoutMs. */
  async next<T extends FromWorker['t']>(t: T, timeoutMs: number): Promise<MessageOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.t === t || m.t === 'error');
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        if (m!.t === 'error') throw new Error(`worker ${this.index}: ${m!.message}`);
        return m as MessageOf<T>;
      }
      if (this.gone) throw new Error(`worker ${this.index} ${this.gone} (waiting for '${t}')`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker ${this.index} sent no '${t}' within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Ends the worker: asks it to exit, and terminates it if it has not after graceMs. */
  async close(graceMs = 3000): Promise<void> {
    if (!this.gone) {
      this.send({ t: 'exit' });
      const end = Date.now() + graceMs;
      while (!this.gone && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    }
    await this.killImpl();
    this.ended('closed');
  }
}

function threadWorker(index: number): WorkerHandle {
  const workerData = { [WORKER_FLAG]: true };
  let worker: Worker;
  if (benchWorkerUrl.pathname.endsWith('.ts')) {
    // Running from the sources under tsx: Node 20 does not apply the parent's --import hooks to
    // worker threads, so the worker registers tsx itself and imports this .ts entry through it.
    const api = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(benchWorkerUrl.href)}, ${JSON.stringify(benchWorkerUrl.href)}))`;
    worker = new Worker(code, { eval: true, workerData });
  } else {
    worker = new Worker(benchWorkerUrl, { workerData });
  }
  const handle = new WorkerHandle(
    index,
    undefined,
    (m) => worker.postMessage(m),
    async () => {
      await worker.terminate();
    },
  );
  worker.on('message', (m: FromWorker) => handle.deliver(m));
  worker.on('error', (e) => handle.ended(`failed: ${e.message}`));
  worker.on('exit', (code) => handle.ended(`exited (code ${code})`));
  return handle;
}

function processWorker(index: number): WorkerHandle {
  const file = fileURLToPath(benchWorkerUrl);
  const execArgv = [...YOUNG_GENERATION_FLAGS, ...(file.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [])];
  const child: ChildProcess = fork(file, [], {
    env: { ...process.env, [CHILD_ENV]: '1' },
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const handle = new WorkerHandle(
    index,
    child.pid,
    (m) => child.send(m),
    async () => {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM'); // our own child, by its handle (its PID)
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await done;
      clearTimeout(t);
    },
  );
  child.on('message', (m) => handle.deliver(m as FromWorker));
  child.on('error', (e) => handle.ended(`failed: ${e.message}`));
  child.on('exit', (code, signal) => {
    exited = true;
    handle.ended(`exited (${signal ?? `code ${code}`})`);
  });
  return handle;
}

async function inlineWorker(index: number): Promise<WorkerHandle> {
  const { serve } = await import('./worker.ts');
  let toWorker: ((m: ToWorker) => void) | undefined;
  let closed = false;
  const handle = new WorkerHandle(
    index,
    undefined,
    (m) => setImmediate(() => toWorker?.(structuredClone(m))),
    async () => {
      closed = true;
    },
  );
  serve({
    send: (m) => {
      if (!closed) setImmediate(() => handle.deliver(structuredClone(m)));
    },
    onMessage: (h) => {
      toWorker = h;
    },
    close: () => {
      closed = true;
      setImmediate(() => handle.ended('exited'));
    },
  });
  return handle;
}

/** Starts `count` workers and waits for each one's hello. */
export async function startWorkers(mode: PoolMode, count: number, timeoutMs: number): Promise<WorkerHandle[]> {
  const handles: WorkerHandle[] = [];
  // A fixed young generation (src/young-generation.ts): a polling latency worker allocates ~150 MB/s,
  // and with V8's default its own scavenges set the p99 it reported as the relay's. V8 flags are
  // per process; the heap of an isolate created after this takes them (processes get them as execArgv).
  if (mode === 'threads') for (const flag of YOUNG_GENERATION_FLAGS) setFlagsFromString(flag);
  for (let i = 0; i < count; i++) {
    handles.push(mode === 'threads' ? threadWorker(i) : mode === 'processes' ? processWorker(i) : await inlineWorker(i));
  }
  try {
    await Promise.all(
      handles.map(async (h) => {
        h.youngGenerationBytes = (await h.next('hello', timeoutMs)).youngGenerationBytes;
      }),
    );
  } catch (error) {
    await Promise.all(handles.map((h) => h.close(0)));
    throw error;
  }
  return handles;
}
