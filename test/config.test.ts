// --config (TOML) and --bootstrapd-config (tox-bootstrapd's libconfig): parsing, precedence
// (flags > TOML > tox-bootstrapd > defaults), one-line errors with FILE:LINE: KEY and exit 1, and a
// relay started from a tox-bootstrapd config with the identity of its keys file.
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCommandLine } from '../src/cli/args.ts';
import { CliError, ConfigError } from '../src/cli/errors.ts';
import { parseLibconfig } from '../src/config/libconfig.ts';
import { loadRunConfig } from '../src/config/load.ts';
import { RELAY_DEFAULTS } from '../src/relay/options.ts';
import { freePort, timed as timedWithin } from './support/process.ts';

const timed = (body: () => Promise<void>, ms = TEST_TIMEOUT_MS) => timedWithin(body, ms);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN = join(ROOT, 'src/cli/run.ts');
const NODE_ARGS = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, RUN];
const TEST_TIMEOUT_MS = 30_000;

/** tox-bootstrapd's sample config, other/bootstrap_daemon/tox-bootstrapd.conf (as Debian installs it). */
const BOOTSTRAPD_SAMPLE = `// Tox DHT bootstrap daemon configuration file.

// Listening port (UDP).
port = 33445

// A key file is like a password, so keep it where no one can read it.
// If there is no key file, a new one will be generated.
// The daemon should have permission to read/write it.
keys_file_path = "/var/lib/tox-bootstrapd/keys"

// The PID file written to by the daemon.
// Make sure that the user that daemon runs as has permissions to write to the
// PID file.
pid_file_path = "/var/run/tox-bootstrapd/tox-bootstrapd.pid"

// Enable IPv6.
enable_ipv6 = true

// Fallback to IPv4 in case IPv6 fails.
enable_ipv4_fallback = true

// Automatically bootstrap with nodes on local area network.
enable_lan_discovery = true

enable_tcp_relay = true

// While Tox uses 33445 port by default, 443 (https) and 3389 (rdp) ports are very
// common among nodes, so it's encouraged to keep them in place.
tcp_relay_ports = [443, 3389, 33445]

// Reply to MOTD (Message Of The Day) requests.
enable_motd = true

// Just a message that is sent when someone requests MOTD.
// Put anything you want, but note that it will be trimmed to fit into 255 bytes.
motd = "tox-bootstrapd"

// Any number of nodes the daemon will bootstrap itself off.
//
// Remember to replace the provided example with your own node list.
// There is a maintained list of bootstrap nodes on Tox's wiki, if you need it
// (https://wiki.tox.chat/users/nodes).
//
// You may leave the list empty or remove "bootstrap_nodes" completely,
// in both cases this will be interpreted as if you don't want to bootstrap
// from anyone.
//
// address = any IPv4 or IPv6 address and also any US-ASCII domain name.
bootstrap_nodes = (
  { // Example Node 1 (IPv4)
    address = "127.0.0.1"
    port = 33445
    public_key = "728925473812C7AAC482BE7250BCCAD0B8CB9F737BF3D42ABD34459C1768F854"
  },
  { // Example Node 2 (IPv6)
    address = "::1"
    port = 33445
    public_key = "3E78BACF0F84235B30054B54898F56793E1DEF8BD46B1038B9D822E8460FAB67"
  },
  { // Example Node 3 (US-ASCII domain name)
    address = "localhost"
    port = 33445
    public_key = "3E78BACF0F84235B30054B54898F56793E1DEF8BD46B1038B9D822E8460FAB67"
  }
)
`;

const FULL_TOML = `# every key
port = [443, 3389, 0]
host = "::1"
ws-port = 8080
udp-port = 0
udp-to-this-host = true
keys = "relay.keys"
max-connections = 500
max-per-ip = 8
handshake-timeout = 2.5
busy-poll = 500
log-level = "debug"
`;

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toxrelay-config-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function file(text: string, ext = 'toml'): Promise<string> {
  const path = join(dir, `c${++n}.${ext}`);
  await writeFile(path, text);
  return path;
}

/** parseCommandLine + loadRunConfig, as main does. */
async function resolve(args: string[]) {
  const command = parseCommandLine(args);
  if (command.kind === 'run') return { config: command.config, notes: [] };
  if (command.kind !== 'run-config') throw new Error(`not a run: ${command.kind}`);
  return loadRunConfig(command);
}

async function rejects(args: string[], kind: typeof ConfigError | typeof CliError, pattern: RegExp): Promise<void> {
  try {
    await resolve(args);
  } catch (err) {
    assert.instance(err, kind, `${args.join(' ')}: ${String(err)}`);
    assert.match((err as Error).message, pattern);
    assert.not.match((err as Error).message, /\n/);
    return;
  }
  assert.unreachable(`accepted: ${args.join(' ')}`);
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, ...args],
      { cwd: dir, timeout: TEST_TIMEOUT_MS - 5_000, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}


test('libconfig: scalars, arrays, lists of groups, comments, escapes, optional terminators, lines', () => {
  const settings = parseLibconfig(`# hash
a = 1; b : -0x10L /* block
comment */ c = 2.5e1
s = "x\\"y\\\\z\\x41" " joined"; // line
t = TRUE, f = false
arr = [1, 2,]
nodes = ( { address = "::1"; port = 1 }, { inner = [ "a" ] } )
empty = ()
`);
  const byName = Object.fromEntries(settings.map((s) => [s.name, s]));
  assert.equal(byName.a!.value, { type: 'int', value: 1, line: 2 });
  assert.equal(byName.b!.value, { type: 'int', value: -16, line: 2 });
  assert.equal(byName.c!.value, { type: 'float', value: 25, line: 3 });
  assert.is(byName.c!.line, 3);
  assert.equal(byName.s!.value, { type: 'string', value: 'x"y\\zA joined', line: 4 });
  assert.equal(byName.t!.value, { type: 'bool', value: true, line: 5 });
  assert.equal(byName.f!.value.value, false);
  assert.equal(byName.arr!.value, { type: 'array', value: [{ type: 'int', value: 1, line: 6 }, { type: 'int', value: 2, line: 6 }], line: 6 });
  const nodes = byName.nodes!.value;
  assert.is(nodes.type, 'list');
  assert.is((nodes.value as unknown[]).length, 2);
  assert.equal(byName.empty!.value, { type: 'list', value: [], line: 8 });
  assert.is(parseLibconfig(BOOTSTRAPD_SAMPLE).length, 11);

  for (const [text, line, pattern] of [
    ['a = "open\n', 1, /unterminated string/],
    ['a = 1\nb = \n\n', 4, /expected a value; got the end of the file/],
    ['a = 1\n/* x\n\n', 2, /unterminated \/\* comment/],
    ['a = [1, "x"]', 1, /one type/],
    ['a = 1;\n\na = 2;', 3, /a is set twice/],
    ['@include "x"', 1, /@include/],
    ['a = (1, 2', 1, /never closed/],
    ['a = yes', 1, /expected a value; got 'yes'/],
    ['a 1', 1, /expected '=' after a/],
  ] as const) {
    try {
      parseLibconfig(text);
      assert.unreachable(`accepted ${JSON.stringify(text)}`);
    } catch (err) {
      assert.is((err as { line?: number }).line, line, `${JSON.stringify(text)}: ${String(err)}`);
      assert.match((err as Error).message, pattern);
    }
  }
});

test('--config: a TOML file with every key; relative keys from the file\'s directory', async () => {
  const path = await file(FULL_TOML);
  const { config } = await resolve(['--config', path]);
  assert.equal(config, {
    ports: [443, 3389, 0],
    host: '::1',
    wsPorts: [8080],
    udpPort: 0,
    udpToThisHost: true,
    keysFile: join(dir, 'relay.keys'),
    maxConnections: 500,
    maxPerIp: 8,
    handshakeTimeoutMs: 2500,
    busyPollUs: 500,
    logLevel: 'debug',
  });
  // One port as a plain number, no-udp, and the defaults for what is not set.
  const small = await resolve(['--config', await file('port = 3389\nno-udp = true\n')]);
  assert.equal(small.config, {
    ports: [3389],
    udpToThisHost: false,
    keysFile: './toxrelay.keys',
    maxConnections: RELAY_DEFAULTS.maxConnections,
    maxPerIp: RELAY_DEFAULTS.maxPerIp,
    handshakeTimeoutMs: RELAY_DEFAULTS.handshakeTimeoutMs,
    busyPollUs: 0,
    logLevel: 'info',
  });
  // An empty file is every default, as no flags are.
  assert.equal((await resolve(['--config', await file('# nothing\n')])).config, (await resolve([])).config);
});

test('flags override the TOML file, which overrides the tox-bootstrapd config', async () => {
  const toml = await file(FULL_TOML);
  const { config } = await resolve([
    '--config', toml, '--port', '1', '--port', '2', '--host', '127.0.0.1', '--no-udp', '--keys', 'k',
    '--max-connections', '7', '--max-per-ip', '3', '--handshake-timeout', '1', '--log-level', 'warn', '--ws-port', '9',
  ]);
  assert.equal(config, {
    ports: [1, 2], host: '127.0.0.1', wsPorts: [9], udpToThisHost: true, keysFile: 'k', maxConnections: 7, maxPerIp: 3, handshakeTimeoutMs: 1000, busyPollUs: 500, logLevel: 'warn',
  });
  // A flag --udp-port beats no-udp in the file; a flag --no-udp beats udp-port in the file.
  assert.is((await resolve(['--config', await file('no-udp = true'), '--udp-port', '5'])).config.udpPort, 5);
  assert.is((await resolve(['--config', toml, '--no-udp'])).config.udpPort, undefined);
  // A --ws-port that collides only with the default TCP port is fine once the file moves the TCP port.
  const moved = await resolve(['--config', await file('port = 1000'), '--ws-port', String(RELAY_DEFAULTS.ports[0])]);
  assert.equal(moved.config.wsPorts, [RELAY_DEFAULTS.ports[0]]);

  const conf = await file('port = 4000;\ntcp_relay_ports = [5000];\nkeys_file_path = "b.keys";\nenable_ipv6 = false;\n', 'conf');
  const both = await resolve(['--bootstrapd-config', conf, '--config', await file('port = 6000\nmax-per-ip = 2')]);
  assert.equal(both.config.ports, [6000], 'TOML over tox-bootstrapd');
  assert.is(both.config.udpPort, 4000);
  assert.is(both.config.keysFile, join(dir, 'b.keys'));
  assert.is(both.config.host, '0.0.0.0', 'enable_ipv6 = false: IPv4 only');
  assert.is(both.config.maxPerIp, 2);
  const flagged = await resolve(['--bootstrapd-config', conf, '--host', '127.0.0.1', '--udp-port', '0', '--keys', 'mine']);
  assert.equal([flagged.config.host, flagged.config.udpPort, flagged.config.keysFile], ['127.0.0.1', 0, 'mine']);
});

test("--bootstrapd-config: tox-bootstrapd's own sample config gives its ports, UDP port and keys", async () => {
  const conf = await file(BOOTSTRAPD_SAMPLE, 'conf');
  const { config, notes } = await resolve(['--bootstrapd-config', conf]);
  assert.equal(config, {
    ports: [443, 3389, 33445],
    udpPort: 33445,
    udpToThisHost: false,
    keysFile: '/var/lib/tox-bootstrapd/keys',
    maxConnections: RELAY_DEFAULTS.maxConnections,
    maxPerIp: RELAY_DEFAULTS.maxPerIp,
    handshakeTimeoutMs: RELAY_DEFAULTS.handshakeTimeoutMs,
    busyPollUs: 0,
    logLevel: 'info',
  });
  assert.not.ok('host' in config, 'enable_ipv6 = true: every address, IPv4 and IPv6');
  assert.ok(notes.every((note) => note.level === 'info'), JSON.stringify(notes));
  const motdLine = BOOTSTRAPD_SAMPLE.split('\n').indexOf('motd = "tox-bootstrapd"') + 1;
  assert.ok(notes.some((note) => note.text.startsWith(`${conf}:${motdLine}: motd: ignored`)), JSON.stringify(notes));
  assert.ok(notes.some((note) => /pid_file_path, enable_ipv4_fallback, enable_lan_discovery, enable_motd, bootstrap_nodes/.test(note.text)));

  // Missing shared keys take tox-bootstrapd's defaults; unknown keys are a warning, not an error.
  const sparse = await resolve(['--bootstrapd-config', await file('enable_tcp_relay = true;\nmystery_key = 1;\n', 'conf')]);
  assert.equal(sparse.config.ports, [443, 3389, 33445]);
  assert.is(sparse.config.udpPort, 33445);
  assert.is(sparse.config.keysFile, join(dir, 'tox-bootstrapd.keys'));
  assert.ok(sparse.notes.some((note) => note.level === 'warn' && /:2: mystery_key: unknown key, ignored$/.test(note.text)));
});

test('bad config values: ConfigError naming FILE:LINE: KEY (in-process, every case)', async () => {
  const toml: Array<[string, RegExp]> = [
    ['\n\nmax-per-ip = "ten"', /:3: max-per-ip: expected a whole number ≥ 1; got "ten"$/],
    ['port = [443, 70000]', /:1: port: expected a TCP port number 1\.\.65535.*; got 70000$/],
    ['port = []', /:1: port: expected at least one TCP port/],
    ['port = [1, 1]', /:1: port: port 1 is listed twice/],
    ['ws-port = "80"', /:1: ws-port: expected a WebSocket .*got "80"$/],
    ['udp-port = -1', /:1: udp-port: expected a UDP port number.*got -1$/],
    ['# UDP\nno-udp = true\nudp-port = 1', /:2: no-udp: no-udp = true and udp-port \(line 3\) cannot be set together/],
    ['no-udp = "yes"', /:1: no-udp: expected true or false; got "yes"$/],
    ['udp-to-this-host = 1', /:1: udp-to-this-host: expected true or false; got 1$/],
    ['host = "example.org"', /:1: host: expected an IPv4 or IPv6 address/],
    ['keys = ""', /:1: keys: expected a file path; got ""$/],
    ['max-connections = 0', /:1: max-connections: expected a whole number ≥ 1; got 0$/],
    ['max-per-ip = 2.5', /:1: max-per-ip: expected a whole number ≥ 1; got 2\.5$/],
    ['handshake-timeout = 0', /:1: handshake-timeout: expected seconds/],
    ['handshake-timeout = "10"', /:1: handshake-timeout: expected seconds.*got "10"$/],
    ['busy-poll = 20000', /:1: busy-poll: expected microseconds, a whole number from 0 \(off\) to 10000; got 20000$/],
    ['busy-poll = 1.5', /:1: busy-poll: expected microseconds/],
    ['log-level = "loud"', /:1: log-level: expected one of silent, error, warn, info, debug; got "loud"$/],
    ['\nports = [1]', /:2: ports: unknown key; did you mean port\? \(the keys are port, host/],
    ['udp_port = 1', /:1: udp_port: unknown key; did you mean udp-port\?/],
    ['\n[relay]\nport = 1', /:2: relay: unknown key \(the keys are/],
    ['port = 1\nws-port = [2, 1]', /:2: ws-port: 1 is also a TCP port \(.*:1: port\)$/],
    ['port = [1,\n', /:2: not valid TOML: /],
    ['port = 1\nport = 2', /:2: not valid TOML: /],
  ];
  for (const [text, pattern] of toml) {
    const path = await file(text);
    await rejects(['--config', path], ConfigError, new RegExp(`^${path}${pattern.source}`));
  }
  const conf: Array<[string, RegExp]> = [
    ['port = 33445;\ntcp_relay_ports = [443, 0];', /:2: tcp_relay_ports: expected each port a TCP port number 1\.\.65535; got 0$/],
    ['tcp_relay_ports = "443";', /:1: tcp_relay_ports: expected an array of TCP port numbers 1\.\.65535.*got "443"$/],
    ['tcp_relay_ports = [];', /:1: tcp_relay_ports: expected at least one TCP port; got \[\]$/],
    ['\nport = 70000', /:2: port: expected a UDP port number 1\.\.65535; got 70000$/],
    ['port = "33445"', /:1: port: expected a UDP port number.*got "33445"$/],
    ['keys_file_path = 12;', /:1: keys_file_path: expected a file path in double quotes; got 12$/],
    ['enable_ipv6 = 1;', /:1: enable_ipv6: expected true or false; got 1$/],
    ['// off\nenable_tcp_relay = false;', /:2: enable_tcp_relay: false: this tox-bootstrapd runs no TCP relay, so toxrelay has nothing to run/],
    ['motd = 5', /:1: motd: expected a string/],
    ['port = 33445\nkeys_file_path = "unterminated\n', /:2: not valid libconfig: unterminated string$/],
    ['tcp_relay_ports = [443, 3389', /:1: not valid libconfig: '\[' opened on line 1 is never closed$/],
  ];
  for (const [text, pattern] of conf) {
    const path = await file(text, 'conf');
    await rejects(['--bootstrapd-config', path], ConfigError, new RegExp(`^${path}${pattern.source}`));
  }
  await rejects(['--config', join(dir, 'missing.toml')], ConfigError, /missing\.toml: cannot read the config file: no such file \(ENOENT\)$/);
  await rejects(['--config', dir], ConfigError, /: cannot read the config file: is a directory \(EISDIR\)$/);
  await rejects(['--config', ''], CliError, /^--config: expected a TOML config file; got ''$/);
  await rejects(['--config', 'a', '--config', 'b'], CliError, /^--config may be given only once$/);
  await rejects(['--bootstrapd-config'], CliError, /^--bootstrapd-config needs a value/);
});

test(
  'bad config from the command: exit 1, one stderr line with FILE:LINE: KEY, no stack trace',
  timed(async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--config', await file('port = [0]\nhost = "127.0.0.1"\n\n# the cap\nudp-port = 0\n\nmax-per-ip = "ten"\n')], /\.toml:7: max-per-ip: expected a whole number ≥ 1; got "ten"$/],
      [['--config', await file('port = [1,\n')], /\.toml:2: not valid TOML: /],
      [['--config', await file('port = [443, 70000]')], /\.toml:1: port: expected a TCP port number.*got 70000$/],
      [['--config', await file('\nbogus = true')], /\.toml:2: bogus: unknown key/],
      [['--config', join(dir, 'nope.toml')], /nope\.toml: cannot read the config file: no such file/],
      [['--bootstrapd-config', await file('port = 0;', 'conf')], /\.conf:1: port: expected a UDP port number 1\.\.65535; got 0$/],
      [['--bootstrapd-config', await file('a = 1;\nenable_tcp_relay = false;', 'conf')], /\.conf:2: enable_tcp_relay: false: .*nothing to run/],
      [['--bootstrapd-config', await file('motd = "unterminated', 'conf')], /\.conf:1: not valid libconfig: unterminated string$/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const label = cases[i]![0].join(' ');
      assert.is(r.code, 1, `${label}: exit code (stderr: ${r.stderr})`);
      const lines = r.stderr.split('\n');
      assert.is(lines.length, 2, `${label}: one stderr line: ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0]!, /^toxrelay: \//);
      assert.match(lines[0]!, cases[i]![1]);
      assert.not.match(r.stderr, /\bat .*:\d+:\d+/);
      assert.is(r.stdout, '');
    });
  }),
);

test(
  "starts from a tox-bootstrapd config and its keys file, with that file's public key",
  timed(async () => {
    const keys = join(dir, 'bootstrapd.keys');
    const gen = await cli(['keygen', keys]);
    assert.is(gen.code, 0, gen.stderr);
    const pub = await cli(['pubkey', keys]);
    assert.is(pub.code, 0, pub.stderr);
    const expected = pub.stdout.trim();
    assert.match(expected, /^[0-9A-F]{64}$/);

    const tcp = await freePort();
    const conf = await file(
      BOOTSTRAPD_SAMPLE.replace('"/var/lib/tox-bootstrapd/keys"', '"bootstrapd.keys"').replace('[443, 3389, 33445]', `[${tcp}]`),
      'conf',
    );
    // Loopback only, and any free UDP port: both flags override the config. On loopback its UDP
    // side needs --udp-to-this-host to do anything (else it warns).
    const child = spawn(process.execPath, [...NODE_ARGS, '--bootstrapd-config', conf, '--host', '127.0.0.1', '--udp-port', '0', '--udp-to-this-host'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/listening on/.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no listening line; stdout: ${stdout}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.is(/^Public key: ([0-9A-F]{64})$/m.exec(stdout)?.[1], expected);
      assert.match(stdout, new RegExp(`listening on 127\\.0\\.0\\.1, TCP port ${tcp}, UDP port \\d+`));
      assert.match(stdout, /motd: ignored/);
      assert.not.match(stdout, /created keys file/);
      assert.is(stderr, '', 'no warnings for the sample config');
      child.kill('SIGTERM');
      assert.is(await exited, 0, stderr);
    } finally {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }),
);

test.run();
