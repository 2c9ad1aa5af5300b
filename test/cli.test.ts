// The toxrelay command, run as a child process from the sources (src/cli/run.ts under tsx).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError, parseCommandLine } from '../src/cli/args.ts';
import { TOML_KEYS } from '../src/config/toml.ts';
import { RELAY_DEFAULTS } from '../src/relay/options.ts';
import { freePort, timed as timedWithin } from './support/process.ts';

const timed = (body: () => Promise<void>, ms = TEST_TIMEOUT_MS) => timedWithin(body, ms);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN = join(ROOT, 'src/cli/run.ts');
// tsx by its resolved URL: the children run in a temporary directory, where `tsx` alone does not resolve.
const NODE_ARGS = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, RUN];
/** Longest any one test may take; each child process also has its own kill timer. */
const TEST_TIMEOUT_MS = 30_000;
const HAVE_SERVER = existsSync(join(ROOT, 'src/relay/server.ts'));

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toxrelay-cli-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const fresh = () => join(dir, `k${++n}.keys`);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `toxrelay ARGS` to completion (killed by PID after the timeout). */
function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, ...args],
      { cwd: dir, timeout: TEST_TIMEOUT_MS - 5_000, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `body` with a deadline, so a hung child cannot hang the suite. */

/** A failure: the given exit code and exactly one line on stderr, `toxrelay: …`, with no stack trace. */
function assertOneLineError(r: Result, code: number, pattern: RegExp): void {
  assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n');
  assert.is(lines.length, 2, `one stderr line: ${JSON.stringify(r.stderr)}`);
  assert.is(lines[1], '');
  assert.match(lines[0]!, /^toxrelay: /);
  assert.match(lines[0]!, pattern);
  assert.not.match(r.stderr, /\bat .*:\d+:\d+/);
}

const usageErrors: Array<[string[], RegExp]> = [
  [['--bogus'], /^unknown option --bogus/],
  [['--toString'], /^unknown option --toString/],
  [['--port', 'http'], /^--port: expected a TCP port number 1\.\.65535.*got 'http'/],
  [['--port', '65536'], /^--port: expected .*got '65536'/],
  [['--port', '-1'], /^--port: expected .*got '-1'/],
  [['--port', '1', '--port', '1'], /^--port 1 is given twice/],
  [['--port'], /^--port needs a value/],
  [['--port', '--host', '::1'], /^--port needs a value/],
  [['--udp-port', '70000'], /^--udp-port: expected a UDP port number/],
  [['--udp-port', '1', '--no-udp'], /^--udp-port and --no-udp cannot be given together/],
  [['--host', 'example.org'], /^--host: expected an IPv4 or IPv6 address, or 'localhost'/],
  [['--max-connections', '0'], /^--max-connections: expected a whole number ≥ 1; got '0'/],
  [['--max-per-ip', '2.5'], /^--max-per-ip: expected a whole number/],
  [['--handshake-timeout', 'soon'], /^--handshake-timeout: expected seconds/],
  [['--handshake-timeout', '0'], /^--handshake-timeout: expected seconds/],
  [['--busy-poll', '10001'], /^--busy-poll: expected microseconds, a whole number from 0 \(off\) to 10000; got '10001'/],
  [['--busy-poll', '2.5'], /^--busy-poll: expected microseconds/],
  [['--busy-poll', '-1'], /^--busy-poll: expected microseconds/],
  [['--log-level', 'verbose'], /^--log-level: expected one of silent, error, warn, info, debug/],
  [['--keys', 'a', '--keys', 'b'], /^--keys may be given only once/],
  [['launch'], /^unknown command 'launch'/],
  [['run', 'now'], /^unexpected argument 'now'/],
  [['keygen'], /^keygen needs a FILE argument/],
  [['pubkey', 'a', 'b'], /^pubkey takes one FILE argument/],
  [['keygen', 'x', '--port', '1'], /^unknown option --port for keygen/],
  [['keygen', 'x', '--force=yes'], /^--force takes no value/],
  [['help', 'me'], /^help takes at most a command name/],
];

test('parseCommandLine: every malformed command line is a one-line CliError naming the problem', () => {
  for (const [args, pattern] of usageErrors) {
    try {
      parseCommandLine(args);
    } catch (err) {
      assert.instance(err, CliError, args.join(' '));
      assert.match((err as Error).message, pattern, args.join(' '));
      assert.not.match((err as Error).message, /\n/);
      continue;
    }
    assert.unreachable(`accepted: ${args.join(' ')}`);
  }
});

test('parseCommandLine: defaults, repeated ports, decimals and the other commands', () => {
  assert.equal(parseCommandLine([]), {
    kind: 'run',
    config: {
      ports: [...RELAY_DEFAULTS.ports],
      udpPort: 33445,
      udpToThisHost: false,
      keysFile: './toxrelay.keys',
      maxConnections: RELAY_DEFAULTS.maxConnections,
      maxPerIp: RELAY_DEFAULTS.maxPerIp,
      handshakeTimeoutMs: RELAY_DEFAULTS.handshakeTimeoutMs,
      busyPollUs: 0,
      logLevel: 'info',
    },
  });
  const run = parseCommandLine([
    'run', '--port', '443', '--port=3389', '--port', '0', '--host', '::1', '--keys', 'k',
    '--max-connections', '5', '--max-per-ip', '2', '--handshake-timeout', '2.5', '--log-level', 'debug', '--udp-port', '0',
    '--busy-poll', '250', '--udp-to-this-host',
  ]);
  assert.equal(run, {
    kind: 'run',
    config: { ports: [443, 3389, 0], host: '::1', udpPort: 0, udpToThisHost: true, keysFile: 'k', maxConnections: 5, maxPerIp: 2, handshakeTimeoutMs: 2500, busyPollUs: 250, logLevel: 'debug' },
  });
  assert.throws(() => parseCommandLine(['--no-udp', '--udp-to-this-host']), /--udp-to-this-host and --no-udp cannot be given together/);
  const noUdp = parseCommandLine(['--no-udp']);
  assert.is(noUdp.kind === 'run' && noUdp.config.udpPort, undefined);
  assert.is(parseCommandLine(['--host', 'localhost']).kind, 'run');
  assert.is(parseCommandLine(['--handshake-timeout', '.5']).kind, 'run');
  assert.equal(parseCommandLine(['keygen', 'f']), { kind: 'keygen', file: 'f', force: false });
  assert.equal(parseCommandLine(['keygen', '--force', 'f']), { kind: 'keygen', file: 'f', force: true });
  assert.equal(parseCommandLine(['pubkey', '--', '-odd-name']), { kind: 'pubkey', file: '-odd-name' });
  for (const args of [['help'], ['help', 'keygen'], ['-h'], ['keygen', '--help'], ['--port', 'nonsense', '-h'], ['launch', '--help']]) {
    assert.equal(parseCommandLine(args), { kind: 'help' }, args.join(' '));
  }
  assert.equal(parseCommandLine(['-v']), { kind: 'version' });
  assert.equal(parseCommandLine(['pubkey', 'f', '--version']), { kind: 'version' });
});

test('parseCommandLine: --ws-port (repeatable, off by default, never a TCP port of the relay)', () => {
  const none = parseCommandLine(['--port', '1']);
  assert.is(none.kind === 'run' && none.config.wsPorts, undefined);
  const two = parseCommandLine(['--ws-port', '8080', '--ws-port=0', '--ws-port', '0']);
  assert.equal(two.kind === 'run' && two.config.wsPorts, [8080, 0, 0]);
  assert.equal(two.kind === 'run' && two.config.ports, [...RELAY_DEFAULTS.ports]);
  const cases: Array<[string[], RegExp]> = [
    [['--ws-port', 'http'], /^--ws-port: expected a WebSocket \(TCP\) port number 1\.\.65535.*got 'http'/],
    [['--ws-port', '65536'], /^--ws-port: expected .*got '65536'/],
    [['--ws-port'], /^--ws-port needs a value/],
    [['--ws-port', '8080', '--ws-port', '8080'], /^--ws-port 8080 is given twice/],
    [['--port', '443', '--ws-port', '443'], /^--ws-port 443 is also a TCP port/],
    [['--ws-port', String(RELAY_DEFAULTS.ports[0])], /is also a TCP port \(--port, default 33445\)/],
    [['keygen', 'f', '--ws-port', '1'], /^unknown option --ws-port for keygen/],
  ];
  for (const [args, pattern] of cases) {
    try {
      parseCommandLine(args);
    } catch (err) {
      assert.instance(err, CliError, args.join(' '));
      assert.match((err as Error).message, pattern, args.join(' '));
      continue;
    }
    assert.unreachable(`accepted: ${args.join(' ')}`);
  }
});

test(
  'usage errors from the command: exit 2, one stderr line, nothing on stdout, no stack trace',
  timed(async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /^toxrelay: unknown option --bogus \(see toxrelay --help\)$/],
      [['--port', 'http'], /^toxrelay: --port: expected a TCP port number/],
      [['launch'], /^toxrelay: unknown command 'launch'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      assertOneLineError(r, 2, cases[i]![1]);
      assert.is(r.stdout, '');
    });
  }),
);

test(
  '--help exits 0 and explains every command and flag',
  timed(async () => {
    const [r, short] = await Promise.all([cli(['--help']), cli(['keygen', '-h'])]);
    assert.is(r.code, 0);
    assert.is(r.stderr, '');
    for (const word of [
      'TCP relay',
      'tox-bootstrapd',
      'keygen FILE',
      'pubkey FILE',
      '--force',
      '--version',
      '--help',
      '--port N',
      '--ws-port N',
      '--metrics HOST:PORT',
      '--host ADDR',
      '--keys FILE',
      '--max-connections N',
      '--max-per-ip N',
      '--handshake-timeout SECS',
      '--log-level LEVEL',
      'default: 33445',
      'default: ./toxrelay.keys',
      `default: ${RELAY_DEFAULTS.maxConnections}`,
      `default: ${RELAY_DEFAULTS.maxPerIp}`,
      `default: ${RELAY_DEFAULTS.handshakeTimeoutMs / 1000}`,
      'default: info',
      'Example',
      'Exit status',
    ]) {
      assert.ok(r.stdout.includes(word), `help mentions ${word}`);
    }
    // The --config paragraph names every key a TOML config may hold.
    const configHelp = /--config FILE([\s\S]*?)--bootstrapd-config/.exec(r.stdout)?.[1] ?? '';
    for (const key of TOML_KEYS) assert.match(configHelp, new RegExp(`(?<![\\w-])${key}(?![\\w-])`), `--config help names ${key}`);
    assert.is(short.code, 0);
    assert.is(short.stdout, r.stdout);
  }),
);

test(
  '--version prints the version of package.json',
  timed(async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await cli([flag]);
      assert.is(r.code, 0);
      assert.is(r.stdout, `toxrelay ${version}\n`);
    }
  }),
);

test(
  'keygen then pubkey print the same key; keygen will not overwrite without --force',
  timed(async () => {
    const path = fresh();
    const gen = await cli(['keygen', path]);
    assert.is(gen.code, 0, gen.stderr);
    const pk = /^Public key: ([0-9A-F]{64})$/m.exec(gen.stdout)?.[1];
    assert.ok(pk, gen.stdout);
    const file = await readFile(path);
    assert.is(file.length, 64);
    assert.is(file.subarray(0, 32).toString('hex').toUpperCase(), pk);

    const pub = await cli(['pubkey', path]);
    assert.is(pub.code, 0, pub.stderr);
    assert.is(pub.stdout, `${pk}\n`);

    const again = await cli(['keygen', path]);
    assertOneLineError(again, 1, /already exists.*--force/);
    assert.equal(await readFile(path), file);

    const forced = await cli(['keygen', path, '--force']);
    assert.is(forced.code, 0, forced.stderr);
    assert.not.equal(await readFile(path), file);
  }),
);

test(
  'a bad keys file: exit 1, one line, the file unchanged (pubkey and run)',
  timed(async () => {
    const path = fresh();
    const short = Buffer.from('not a keys file');
    await writeFile(path, short);
    assertOneLineError(await cli(['pubkey', path]), 1, /keys file .* is 15 bytes; a tox-bootstrapd keys file is 64 bytes/);
    const run = await cli(['--keys', path, '--host', '127.0.0.1', '--port', '0', '--udp-port', '0']);
    assertOneLineError(run, 1, /is 15 bytes/);
    assert.not.match(run.stdout, /Public key/);
    assert.equal(await readFile(path), short);

    const missing = fresh();
    assertOneLineError(await cli(['pubkey', missing]), 1, /does not exist/);
    assert.not.ok(existsSync(missing), 'pubkey does not create a keys file');
  }),
);

// --- running the relay (needs src/relay/server.ts) ---

/** A port that was free a moment ago on 127.0.0.1. */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Starts `toxrelay ARGS` and collects its output as it comes. */
function startCli(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting = new Set<() => void>();
  const poke = () => waiting.forEach((f) => f());
  child.stdout!.setEncoding('utf8').on('data', (s: string) => ((stdout += s), poke()));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => ((stderr += s), poke()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
    waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(stdout);
          if (m) {
            waiting.delete(check);
            resolve(m);
          }
        };
        waiting.add(check);
        check();
        void exited.then(() => {
          check();
          if (waiting.delete(check)) reject(new Error(`exited before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`));
        });
      });
    },
    /** Kills the child by its PID if it is still running. */
    kill() {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  const name = `runs: creates the keys, prints the public key, listens, and exits 0 on ${signal}`;
  if (!HAVE_SERVER) {
    test.skip(name);
    continue;
  }
  test(
    name,
    timed(async () => {
      const keys = fresh();
      const port = await freePort();
      // SIGTERM's run allows UDP to this host; SIGINT's does not, and is warned that its UDP side,
      // bound to loopback, can do nothing.
      const thisHost = signal === 'SIGTERM' ? ['--udp-to-this-host'] : [];
      const relay = startCli(['--host', '127.0.0.1', '--port', String(port), '--udp-port', '0', ...thisHost, '--keys', keys, '--handshake-timeout', '2.5', '--busy-poll', '500']);
      try {
        const pk = (await relay.waitFor(/^Public key: ([0-9A-F]{64})$/m))[1];
        await relay.waitFor(/listening on 127\.0\.0\.1, TCP port \d+/);
        assert.match(relay.stdout, /created keys file .* with a new keypair/);
        const file = await readFile(keys);
        assert.is(file.subarray(0, 32).toString('hex').toUpperCase(), pk);
        assert.ok(await canConnect(port), `listens on 127.0.0.1:${port}`);

        relay.child.kill(signal);
        const { code } = await relay.exited;
        assert.is(code, 0, relay.stderr);
        if (thisHost.length > 0) assert.is(relay.stderr, '');
        else {
          const warnings = relay.stderr.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
          assert.equal(warnings.map((w) => [w.level, String(w.msg).slice(0, 60)]), [['warn', 'UDP is bound to a loopback address, so onion and forward req']]);
        }
        assert.not.ok(await canConnect(port), 'stopped listening');
        // stdout is a pipe here, so the log is pino JSON, one record a line; only the public key
        // is a raw line.
        const records = relay.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('Public key: '));
        const parsed = records.map((line) => JSON.parse(line) as Record<string, unknown>);
        for (const r of parsed) {
          assert.is(r.name, 'toxrelay');
          assert.is(r.level, 'info', JSON.stringify(r));
          assert.match(String(r.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        const msgs = parsed.map((r) => String(r.msg));
        assert.ok(msgs.some((m) => /^listening on 127\.0\.0\.1, TCP port \d+/.test(m)), msgs.join(' | '));
        assert.ok(msgs.includes('busy polling: after input the loop polls for 500 µs instead of sleeping'), msgs.join(' | '));
        assert.ok(msgs.includes(`${signal} received; closing (send it again to exit at once)`), msgs.join(' | '));
        assert.is(msgs.at(-1), 'closed');
      } finally {
        relay.kill();
      }
    }),
  );
}

const busyName = 'a port already in use: exit 1 with one line naming the port';
if (!HAVE_SERVER) {
  test.skip(busyName);
} else {
  test(
    busyName,
    timed(async () => {
      const blocker = await listen(0);
      const port = (blocker.address() as { port: number }).port;
      const relay = startCli(['--host', '127.0.0.1', '--port', String(port), '--udp-port', '0', '--keys', fresh()]);
      try {
        const { code } = await relay.exited;
        assertOneLineError({ code, stdout: relay.stdout, stderr: relay.stderr }, 1, new RegExp(`^toxrelay: TCP port ${port} is already in use \\(EADDRINUSE\\)$`));
      } finally {
        relay.kill();
        blocker.close();
      }
    }),
  );
}

const wsName = 'runs with --ws-port: logs the WebSocket port and serves WebSocket clients; a busy one exits 1 naming it';
if (!HAVE_SERVER) {
  test.skip(wsName);
} else {
  test(
    wsName,
    timed(async () => {
      const wsPort = await freePort();
      const relay = startCli(['--host', '127.0.0.1', '--port', '0', '--ws-port', String(wsPort), '--udp-port', '0', '--keys', fresh()]);
      try {
        await relay.waitFor(new RegExp(`listening on 127\\.0\\.0\\.1, TCP port \\d+, WebSocket port ${wsPort}, UDP`));
        const { WebSocket } = await import('ws');
        const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        ws.terminate();

        // Its port is now busy: a second relay on it fails with one line naming the WebSocket port.
        const second = startCli(['--host', '127.0.0.1', '--port', '0', '--ws-port', String(wsPort), '--udp-port', '0', '--keys', fresh()]);
        try {
          const { code } = await second.exited;
          assertOneLineError(
            { code, stdout: second.stdout, stderr: second.stderr },
            1,
            new RegExp(`^toxrelay: WebSocket port ${wsPort} is already in use \\(EADDRINUSE\\)$`),
          );
        } finally {
          second.kill();
        }
        relay.child.kill('SIGTERM');
        assert.is((await relay.exited).code, 0, relay.stderr);
      } finally {
        relay.kill();
      }
    }),
  );
}

if (HAVE_SERVER) {
  test(
    '--metrics serves Prometheus text while the relay runs; a bad address is a usage error',
    timed(async () => {
      assertOneLineError(await cli(['--metrics', 'nonsense']), 2, /^toxrelay: --metrics: expected HOST:PORT/);
      const port = await freePort();
      const metricsPort = await freePort();
      const relay = startCli(['--host', '127.0.0.1', '--port', String(port), '--udp-port', '0', '--keys', fresh(), '--metrics', `127.0.0.1:${metricsPort}`]);
      try {
        await relay.waitFor(/Prometheus metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        assert.match(text, /toxrelay_connections\{state="confirmed"\} 0/);
        relay.child.kill('SIGTERM');
        assert.is((await relay.exited).code, 0, relay.stderr);
      } finally {
        relay.kill();
      }
    }),
  );
}

test.run();
