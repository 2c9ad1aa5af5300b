// The relays a comparison starts: toxrelay (this checkout's bin/toxrelay.js) and tox-bootstrapd,
// each a child process on free loopback ports, with its own keys in a temporary directory. Each is
// stopped by its own PID (SIGTERM, then SIGKILL after a grace period).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { YOUNG_GENERATION_FLAGS } from '../young-generation.ts';

export type RelayName = 'toxrelay' | 'tox-bootstrapd';

export interface StartedRelay {
  name: RelayName;
  pid: number;
  port: number;
  keyHex: string;
  /** The command line, for the report. */
  command: string[];
  /** The last lines it printed (stdout and stderr). */
  output(): string[];
  /** Its version, as far as it tells. */
  version(): string | undefined;
  alive(): boolean;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const KEPT_LINES = 40;

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs or if `alive()` turns false. */
async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!alive()) throw new Error('exited before it listened');
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not accept connections within ${timeoutMs / 1000} s`);
}

/** tox-bootstrapd prints `Running "tox-bootstrapd" version 1000002018.`: 1 000 000 000 + major·10⁶ + minor·10³ + patch. */
export function bootstrapdVersion(lines: string[]): string | undefined {
  for (const line of lines) {
    const m = /version (\d{10})\b/.exec(line);
    if (m) {
      const n = Number(m[1]) - 1_000_000_000;
      return `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1000) % 1000}.${n % 1000}`;
    }
  }
  return undefined;
}

function packageVersion(): string | undefined {
  const root = packageRoot();
  if (!root) return undefined;
  try {
    return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version);
  } catch {
    return undefined;
  }
}

/** Relays started and not yet exited: what an interrupted comparison must stop (stopLiveRelays). */
const liveRelays = new Set<StartedRelay>();
/** Set by stopLiveRelays: from then on no relay is started (a comparison still running would). */
let stopping = false;

/** Stops every relay this process started that is still running, and starts none after. */
export async function stopLiveRelays(): Promise<void> {
  stopping = true;
  await Promise.all([...liveRelays].map((relay) => relay.stop()));
}

function refuseWhenStopping(name: RelayName): void {
  if (stopping) throw new Error(`${name} not started: the comparison is stopping`);
}

function supervise(name: RelayName, child: ChildProcess, port: number, keyHex: () => string, command: string[]): StartedRelay {
  const lines: string[] = [];
  let exited = false;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => {
    exited = true;
    liveRelays.delete(relay);
  });
  // A program that cannot be started (not executable, a directory) ends here, not in 'exit'.
  child.on('error', (error) => {
    lines.push(`cannot start ${command[0]}: ${error.message}`);
    exited = true;
    liveRelays.delete(relay);
  });
  const relay: StartedRelay = {
    name,
    pid: child.pid!,
    port,
    get keyHex() {
      return keyHex();
    },
    command,
    output: () => [...lines],
    version: () => (name === 'toxrelay' ? packageVersion() : bootstrapdVersion(lines)),
    alive: () => !exited,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await done;
      clearTimeout(timer);
    },
  };
  liveRelays.add(relay);
  return relay;
}

function toxrelayBin(): string {
  const root = packageRoot();
  if (!root) throw new Error("cannot find toxrelay's package root");
  if (!existsSync(join(root, 'build/cli.js'))) throw new Error('toxrelay is not built: run `npm run build` first');
  return join(root, 'bin/toxrelay.js');
}

/**
 * toxrelay's --busy-poll in a comparison's latency runs: the relay set up for latency, as an
 * operator who wants it would (README), at the price of a core while packets flow. 1000 µs
 * outlasts the bench's turnaround, so the relay is awake for the answer (docs/PERFORMANCE.md).
 * Throughput and connect runs measure the relay as it starts by default.
 */
export const COMPARE_BUSY_POLL_US = 1000;

/** Flags this checkout's toxrelay takes beside the TCP ones, by workload. */
export interface ToxrelayArgs {
  all: string[];
  latency: string[];
}

/**
 * A toxrelay with a UDP side (onion, forwarding) binds UDP 33445 by default, like tox-bootstrapd,
 * so it gets any free UDP port, and, bound to loopback as it is here, may send to this machine
 * (else its UDP side could do nothing, and it says so at start); latency runs add busy polling.
 * Each only where the checkout has the flag (an older one being compared may not).
 */
export async function toxrelayExtraArgs(): Promise<ToxrelayArgs> {
  const help = await new Promise<string>((resolve) => {
    execFile(process.execPath, [toxrelayBin(), '--help'], { timeout: 10_000 }, (_error, stdout) => resolve(String(stdout)));
  });
  return {
    all: [...(help.includes('--udp-port') ? ['--udp-port', '0'] : []), ...(help.includes('--udp-to-this-host') ? ['--udp-to-this-host'] : [])],
    latency: help.includes('--busy-poll') ? ['--busy-poll', String(COMPARE_BUSY_POLL_US)] : [],
  };
}

/** `node YOUNG_GENERATION_FLAGS bin/toxrelay.js --host 127.0.0.1 --port P --keys DIR/keys --log-level warn [extra]`; key from its "Public key:" line. */
export async function startToxrelay(dir: string, extraArgs: string[] = []): Promise<StartedRelay> {
  const bin = toxrelayBin();
  refuseWhenStopping('toxrelay');
  await mkdir(dir, { recursive: true });
  const port = await freeTcpPort();
  const args = [...YOUNG_GENERATION_FLAGS, bin, '--host', '127.0.0.1', '--port', String(port), '--keys', join(dir, 'keys'), '--log-level', 'warn', ...extraArgs];
  refuseWhenStopping('toxrelay'); // again: the awaits above let a signal in
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let key = '';
  const keyLine = new Promise<void>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`toxrelay printed no "Public key:" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = /^Public key: ([0-9A-Fa-f]{64})$/m.exec(text);
      if (m && !key) {
        key = m[1]!;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`toxrelay exited (code ${code}) before printing its key`));
    });
  });
  const relay = supervise('toxrelay', child, port, () => key, [process.execPath, ...args]);
  try {
    await keyLine;
    await waitForPort(port, START_TIMEOUT_MS, relay.alive);
  } catch (error) {
    await relay.stop();
    throw new Error(`toxrelay did not start: ${(error as Error).message}; output: ${relay.output().slice(-3).join(' | ')}`);
  }
  return relay;
}

/** tox-bootstrapd in the foreground with a config of its own (DHT on a free UDP port, TCP relay on a free TCP port). */
export async function startBootstrapd(path: string, dir: string): Promise<StartedRelay> {
  refuseWhenStopping('tox-bootstrapd');
  await mkdir(dir, { recursive: true });
  const udp = await freeUdpPort();
  const port = await freeTcpPort();
  const keys = join(dir, 'keys');
  const config = join(dir, 'tox-bootstrapd.conf');
  await writeFile(
    config,
    [
      `port = ${udp};`,
      `keys_file_path = "${keys}";`,
      `pid_file_path = "${join(dir, 'pid')}";`,
      'enable_ipv6 = false;',
      'enable_ipv4_fallback = true;',
      'enable_lan_discovery = false;',
      'enable_tcp_relay = true;',
      `tcp_relay_ports = [${port}];`,
      'enable_motd = false;',
      '',
    ].join('\n'),
  );
  const args = [`--config=${config}`, '--foreground', '--log-backend=stdout'];
  refuseWhenStopping('tox-bootstrapd'); // again: the awaits above let a signal in
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let key = '';
  const relay = supervise('tox-bootstrapd', child, port, () => key, [path, ...args]);
  try {
    await waitForPort(port, START_TIMEOUT_MS, relay.alive);
    // The keys file is written before the TCP server starts: its first 32 bytes are the key.
    const bytes = await readFile(keys);
    if (bytes.length < 64) throw new Error(`its keys file has ${bytes.length} bytes`);
    key = bytes.subarray(0, 32).toString('hex').toUpperCase();
  } catch (error) {
    await relay.stop();
    throw new Error(`tox-bootstrapd did not start: ${(error as Error).message}; output: ${relay.output().slice(-3).join(' | ')}`);
  }
  return relay;
}
