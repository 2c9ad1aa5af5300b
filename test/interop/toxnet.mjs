// Helpers shared by test/interop-toxcore.test.ts and scripts/interop.mjs: build the libtoxcore
// harness (toxharness.c), start a relay to test (toxrelay or Debian's tox-bootstrapd) on loopback,
// run the harness against it and parse its `phase NAME ok|FAIL …` lines.
// Plain JavaScript so that `node scripts/interop.mjs` runs without tsx; types in toxnet.d.mts.
//
// Every child process started here is stopped by its own handle (SIGTERM, then SIGKILL), never by
// name, and every wait is bounded.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HARNESS_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'toxharness.c');
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BOOTSTRAPD = '/usr/bin/tox-bootstrapd';
export const INSTALL_HINT = 'apt-get install gcc libc6-dev pkg-config libsodium-dev libtoxcore-dev toxcore-utils';

/** The phases toxharness.c runs, in order (`hold` only with --hold, `file` unless --file-mib 0). */
export const PHASES = ['dht', 'relay', 'friend-request', 'online', 'messages', 'file', 'hold'];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** Runs a program to completion, bounded by `timeout` ms (then SIGKILL). Never rejects. */
export function run(file, args, timeout, { onStdout, ...options } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout, killSignal: 'SIGKILL', maxBuffer: 8 << 20, ...options },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({
          code,
          signal: error?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr) + (error && typeof error.code !== 'number' && !error.signal ? String(error) : ''),
        });
      },
    );
    if (onStdout) child.stdout?.on('data', (chunk) => onStdout(String(chunk)));
  });
}

/** What is missing to build and run the harness: [] when everything is there. */
export function missingToolchain() {
  const missing = [];
  if (!onPath('gcc')) missing.push('gcc');
  if (!existsSync('/usr/include/tox/tox.h')) missing.push('libtoxcore-dev');
  if (!existsSync('/usr/include/sodium.h')) missing.push('libsodium-dev');
  return missing;
}

/** Compiles toxharness.c into `dir` (outside the repository); returns the binary's path. */
export async function buildHarness(dir) {
  let cflags = [];
  let libs = ['-ltoxcore'];
  if (onPath('pkg-config')) {
    const c = await run('pkg-config', ['--cflags', 'toxcore'], 10_000);
    const l = await run('pkg-config', ['--libs', 'toxcore'], 10_000);
    if (c.code === 0 && l.code === 0) {
      cflags = c.stdout.trim().split(/\s+/).filter(Boolean);
      libs = l.stdout.trim().split(/\s+/).filter(Boolean);
    }
  }
  const out = join(dir, 'toxharness');
  const built = await run(
    'gcc',
    ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c11', ...cflags, HARNESS_SOURCE, '-o', out, ...libs],
    120_000,
  );
  if (built.code !== 0) {
    throw new Error(`compiling ${HARNESS_SOURCE} failed (exit ${built.code}):\n${built.stdout}${built.stderr}`);
  }
  return out;
}

async function freePort(kind) {
  if (kind === 'udp') {
    const socket = createSocket('udp4');
    await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', resolve);
    });
    const port = socket.address().port;
    await new Promise((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  await new Promise((resolve) => server.close(() => resolve()));
  return port;
}

export const freeTcpPort = () => freePort('tcp');
export const freeUdpPort = () => freePort('udp');

/** Does something accept TCP connections on 127.0.0.1:port? (one attempt, at most 500 ms) */
export function accepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Stops a child we started, by its own handle: SIGTERM, then SIGKILL after 2 s; waits at most 4 s. */
export async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 2000);
  await Promise.race([exited, sleep(4000)]);
  clearTimeout(timer);
}

/**
 * Spawns a relay process and waits (bounded) until it prints or writes its key and accepts TCP.
 * `keyOf(output)` finds the key in the output so far, `keyFile` is the fallback (first 32 bytes).
 */
async function startRelayProcess({ name, file, args, cwd, port, keyFile, keyPattern }) {
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk.toString()));
  child.stderr.on('data', (chunk) => (output += chunk.toString()));
  let spawnError;
  child.once('error', (error) => (spawnError = error));
  const relay = {
    name,
    host: '127.0.0.1',
    port,
    publicKey: undefined,
    child,
    output: () => output,
    spec: () => `${relay.host}:${relay.port}:${relay.publicKey}`,
    stop: () => stopChild(child),
  };
  try {
    for (let i = 0; i < 100 && !relay.publicKey; i++) {
      relay.publicKey = keyPattern.exec(output)?.[1]?.toLowerCase();
      if (!relay.publicKey && existsSync(keyFile)) {
        const bytes = await readFile(keyFile);
        if (bytes.length >= 64) relay.publicKey = bytes.subarray(0, 32).toString('hex');
      }
      if (relay.publicKey || spawnError || child.exitCode !== null) break;
      await sleep(100);
    }
    if (!relay.publicKey) {
      throw new Error(`${name} did not report its public key (exit ${child.exitCode}${spawnError ? `, ${spawnError}` : ''}):\n${output}`);
    }
    let up = false;
    for (let i = 0; i < 50 && !up && child.exitCode === null; i++) {
      up = await accepts(port);
      if (!up) await sleep(100);
    }
    if (!up) throw new Error(`${name} does not accept on TCP port ${port} (exit ${child.exitCode}):\n${output}`);
    return relay;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** Debian's tox-bootstrapd with its TCP relay on one free port, IPv4 only, no LAN discovery. */
export async function startBootstrapd(dir) {
  const udpPort = await freeUdpPort();
  const tcpPort = await freeTcpPort();
  const keys = join(dir, 'bootstrapd.keys');
  const config = join(dir, 'tox-bootstrapd.conf');
  await writeFile(
    config,
    [
      `port = ${udpPort};`,
      `keys_file_path = "${keys}";`,
      `pid_file_path = "${join(dir, 'bootstrapd.pid')}";`,
      'enable_ipv6 = false;',
      'enable_ipv4_fallback = true;',
      'enable_lan_discovery = false;',
      'enable_tcp_relay = true;',
      `tcp_relay_ports = [${tcpPort}];`,
      'enable_motd = false;',
      '',
    ].join('\n'),
  );
  const relay = await startRelayProcess({
    name: 'tox-bootstrapd',
    file: BOOTSTRAPD,
    args: [`--config=${config}`, '--foreground', '--log-backend=stdout'],
    port: tcpPort,
    keyFile: keys,
    keyPattern: /Public Key: ([0-9A-Fa-f]{64})/,
  });
  relay.udpPort = udpPort;
  return relay;
}

/** toxrelay from this checkout (bin/toxrelay.js, so `npm run build` must have run), TCP + UDP. */
export async function startToxrelay(dir, { logLevel = 'warn' } = {}) {
  const udpPort = await freeUdpPort();
  const tcpPort = await freeTcpPort();
  const keys = join(dir, 'toxrelay.keys');
  const relay = await startRelayProcess({
    name: 'toxrelay',
    file: process.execPath,
    args: [
      join(REPO_ROOT, 'bin', 'toxrelay.js'),
      '--host', '127.0.0.1',
      '--port', String(tcpPort),
      '--udp-port', String(udpPort),
      '--udp-to-this-host', // its DHT nodes are on this machine
      '--keys', keys,
      '--log-level', logLevel,
    ],
    cwd: REPO_ROOT,
    port: tcpPort,
    keyFile: keys,
    keyPattern: /Public key: ([0-9A-Fa-f]{64})/,
  });
  relay.udpPort = udpPort;
  return relay;
}

/** Parses the harness's stdout: every `phase NAME ok SECONDS …` / `phase NAME FAIL why` line. */
export function parsePhases(stdout) {
  const phases = [];
  for (const line of stdout.split('\n')) {
    const ok = /^phase (\S+) ok ([0-9.]+)(?: (.*))?$/.exec(line);
    if (ok) {
      phases.push({ name: ok[1], ok: true, seconds: Number(ok[2]), detail: ok[3] ?? '', line });
      continue;
    }
    const fail = /^phase (\S+) FAIL (.*)$/.exec(line);
    if (fail) phases.push({ name: fail[1], ok: false, seconds: NaN, detail: fail[2], line });
  }
  return phases;
}

/** The harness's own bound on its run time, in ms, for the given options (mirrors toxharness.c). */
export function harnessBoundMs({ hold = 0, fileMib = 4, timeoutScale = 1 } = {}) {
  const phases = 60 + 60 + 60 + 60 + 30 + (30 + 15 * fileMib) + hold + 30;
  return Math.ceil((phases * timeoutScale + 90) * 1000);
}

/**
 * Runs the harness against `spec` (HOST:PORT:KEY). options: hold, fileMib, timeoutScale, dhtHost,
 * verbose (toxcore's log and progress on stderr), onStdout (live output). Resolves with the process result plus the parsed phases.
 */
export async function runHarness(binary, spec, options = {}) {
  const args = ['--relay', spec];
  if (options.hold) args.push('--hold', String(options.hold));
  if (options.fileMib !== undefined) args.push('--file-mib', String(options.fileMib));
  if (options.timeoutScale !== undefined) args.push('--timeout-scale', String(options.timeoutScale));
  if (options.dhtHost) args.push('--dht-host', options.dhtHost);
  if (options.verbose) args.push('--verbose');
  const started = Date.now();
  const result = await run(binary, args, harnessBoundMs(options), { onStdout: options.onStdout });
  return { ...result, args, wallSeconds: (Date.now() - started) / 1000, phases: parsePhases(result.stdout) };
}
