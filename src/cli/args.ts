// Command line → what to do. Pure: no I/O, every bad input is a CliError with a one-line message
// that names the flag (or argument) and what was expected.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../log.ts';
import { RELAY_DEFAULTS } from '../relay/options.ts';

export const DEFAULT_KEYS_FILE = './toxrelay.keys';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** tox-bootstrapd's default UDP port (its DHT, onion and forwarding port). */
export const DEFAULT_UDP_PORT = 33445;
export const COMMANDS = ['run', 'keygen', 'pubkey', 'bench', 'testbed', 'help'] as const;

/** The flags of the default command (`run`), already validated and in the units RelayOptions uses. */
export interface RunConfig {
  ports: number[];
  /** undefined: every address, IPv4 and IPv6. */
  host?: string;
  /** WebSocket ports; absent (the default) means no WebSocket. */
  wsPorts?: number[];
  /** The onion and forwarding UDP port; undefined with --no-udp. */
  udpPort?: number;
  keysFile: string;
  maxConnections: number;
  maxPerIp: number;
  handshakeTimeoutMs: number;
  logLevel: LogLevel;
}

export type Command =
  | { kind: 'run'; config: RunConfig }
  | { kind: 'keygen'; file: string; force: boolean }
  | { kind: 'pubkey'; file: string }
  | { kind: 'bench'; args: string[] }
  | { kind: 'testbed'; args: string[] }
  | { kind: 'help' }
  | { kind: 'version' };

/** A usage error: the user typed something toxrelay does not accept (exit code 2). */
export class CliError extends Error {
  override name = 'CliError';
}

type Flag = { type: 'string' | 'boolean' };

/** The flags of each command; --help and --version are handled before these are looked at. */
const FLAGS: Record<(typeof COMMANDS)[number], Record<string, Flag>> = {
  run: {
    port: { type: 'string' },
    host: { type: 'string' },
    'ws-port': { type: 'string' },
    'udp-port': { type: 'string' },
    'no-udp': { type: 'boolean' },
    keys: { type: 'string' },
    'max-connections': { type: 'string' },
    'max-per-ip': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'log-level': { type: 'string' },
  },
  keygen: { force: { type: 'boolean' } },
  pubkey: {},
  bench: {}, // parsed by src/bench/args.ts
  testbed: {}, // parsed by src/testbed/command.ts
  help: {},
};

/** Flags that may be given more than once. */
const REPEATABLE = new Set(['port', 'ws-port']);

/** Longest --handshake-timeout accepted: one day (timers beyond ~24.8 days overflow in Node). */
const MAX_TIMEOUT_SECONDS = 86_400;

export function parseCommandLine(argv: readonly string[]): Command {
  // `bench` has flags (and a --help) of its own: src/bench/args.ts parses them.
  if (argv[0] === 'bench') return { kind: 'bench', args: argv.slice(1) };
  // So has `testbed` (src/testbed/command.ts).
  if (argv[0] === 'testbed') return { kind: 'testbed', args: argv.slice(1) };
  // --help and --version win wherever they appear (before a `--`), even next to mistakes.
  const end = argv.indexOf('--');
  const flagsPart = end === -1 ? argv : argv.slice(0, end);
  if (flagsPart.some((a) => a === '--help' || a === '-h')) return { kind: 'help' };
  if (flagsPart.some((a) => a === '--version' || a === '-v')) return { kind: 'version' };

  const first = argv[0];
  const named = first !== undefined && !first.startsWith('-');
  if (named && !isCommand(first)) {
    throw new CliError(`unknown command '${first}'; the commands are ${COMMANDS.join(', ')} (see toxrelay --help)`);
  }
  const command = named ? (first as (typeof COMMANDS)[number]) : 'run';
  const rest = named ? argv.slice(1) : argv;
  const flags = FLAGS[command];

  // strict: false so that every mistake reaches the checks below, which word the errors.
  const { tokens } = parseArgs({ args: [...rest], options: flags, strict: false, allowPositionals: true, tokens: true });

  if (command === 'help') {
    // `toxrelay help keygen` is accepted: there is one help text, and it covers every command.
    const extra = tokens.find((t) => !(t.kind === 'positional' && isCommand(t.value)));
    if (extra) throw new CliError(`help takes at most a command name; got '${rest[extra.index]}'`);
    return { kind: 'help' };
  }

  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    const flag = Object.hasOwn(flags, t.name) ? flags[t.name] : undefined;
    if (!flag) {
      const where = command === 'run' ? '' : ` for ${command}`;
      throw new CliError(`unknown option ${t.rawName}${where} (see toxrelay --help)`);
    }
    const seen = values.get(t.name) ?? [];
    if (seen.length > 0 && !REPEATABLE.has(t.name)) throw new CliError(`--${t.name} may be given only once`);
    if (flag.type === 'boolean') {
      if (t.value !== undefined) throw new CliError(`--${t.name} takes no value; got '--${t.name}=${t.value}'`);
      seen.push('');
    } else {
      // parseArgs takes the next argument as the value even if it looks like a flag ("--port --host").
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
        throw new CliError(`--${t.name} needs a value: ${EXPECTED[t.name]}`);
      }
      seen.push(t.value);
    }
    values.set(t.name, seen);
  }

  if (command === 'run') {
    if (positionals.length > 0) {
      throw new CliError(`unexpected argument '${positionals[0]}'; the commands are ${COMMANDS.join(', ')} (see toxrelay --help)`);
    }
    return { kind: 'run', config: runConfig(values) };
  }
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? `${command} needs a FILE argument: toxrelay ${command} FILE`
        : `${command} takes one FILE argument; got ${positionals.length}: ${positionals.map((p) => `'${p}'`).join(' ')}`,
    );
  }
  const file = positionals[0]!;
  if (file === '') throw new CliError(`${command}: FILE must not be empty`);
  if (command === 'keygen') return { kind: 'keygen', file, force: values.has('force') };
  return { kind: 'pubkey', file };
}

/** What each flag with a value accepts, for error messages. */
const EXPECTED: Record<string, string> = {
  port: 'a TCP port number 1..65535, or 0 for any free port',
  'ws-port': 'a WebSocket (TCP) port number 1..65535, or 0 for any free port',
  host: "an IPv4 or IPv6 address, or 'localhost'",
  'udp-port': 'a UDP port number 1..65535, or 0 for any free port',
  keys: 'a file path',
  'max-connections': 'a whole number ≥ 1',
  'max-per-ip': 'a whole number ≥ 1',
  'handshake-timeout': `seconds, a number > 0 and ≤ ${MAX_TIMEOUT_SECONDS} (decimals allowed)`,
  'log-level': `one of ${LOG_LEVELS.join(', ')}`,
};

function runConfig(values: Map<string, string[]>): RunConfig {
  const one = (name: string) => values.get(name)?.[0];
  const bad = (name: string, value: string) => new CliError(`--${name}: expected ${EXPECTED[name]}; got '${value}'`);

  const ports: number[] = [];
  for (const v of values.get('port') ?? []) {
    const port = wholeNumber(v);
    if (port === undefined || port > 65535) throw bad('port', v);
    if (port !== 0 && ports.includes(port)) throw new CliError(`--port ${port} is given twice`);
    ports.push(port);
  }
  if (ports.length === 0) ports.push(...RELAY_DEFAULTS.ports);

  // WebSocket listens on TCP ports too, so it cannot share one with --port (0 is a fresh free port each time).
  const wsPorts: number[] = [];
  for (const v of values.get('ws-port') ?? []) {
    const port = wholeNumber(v);
    if (port === undefined || port > 65535) throw bad('ws-port', v);
    if (port !== 0 && wsPorts.includes(port)) throw new CliError(`--ws-port ${port} is given twice`);
    if (port !== 0 && ports.includes(port)) throw new CliError(`--ws-port ${port} is also a TCP port (--port, default ${RELAY_DEFAULTS.ports.join(', ')})`);
    wsPorts.push(port);
  }

  const host = one('host');
  if (host !== undefined && host !== 'localhost' && isIP(host) === 0) throw bad('host', host);

  const udpText = one('udp-port');
  let udpPort: number | undefined = DEFAULT_UDP_PORT;
  if (values.has('no-udp')) {
    if (udpText !== undefined) throw new CliError('--udp-port and --no-udp cannot be given together');
    udpPort = undefined;
  } else if (udpText !== undefined) {
    udpPort = wholeNumber(udpText);
    if (udpPort === undefined || udpPort > 65535) throw bad('udp-port', udpText);
  }

  const keysFile = one('keys') ?? DEFAULT_KEYS_FILE;
  if (keysFile === '') throw bad('keys', keysFile);

  const count = (name: string, fallback: number) => {
    const v = one(name);
    if (v === undefined) return fallback;
    const n = wholeNumber(v);
    if (n === undefined || n < 1) throw bad(name, v);
    return n;
  };

  let handshakeTimeoutMs: number = RELAY_DEFAULTS.handshakeTimeoutMs;
  const timeout = one('handshake-timeout');
  if (timeout !== undefined) {
    const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(timeout) ? Number(timeout) : NaN;
    const ms = Math.round(seconds * 1000);
    if (!(ms >= 1 && seconds <= MAX_TIMEOUT_SECONDS)) throw bad('handshake-timeout', timeout);
    handshakeTimeoutMs = ms;
  }

  const level = one('log-level') ?? DEFAULT_LOG_LEVEL;
  if (!isLogLevel(level)) throw bad('log-level', level);

  return {
    ports,
    ...(wsPorts.length === 0 ? {} : { wsPorts }),
    ...(host === undefined ? {} : { host }),
    ...(udpPort === undefined ? {} : { udpPort }),
    keysFile,
    maxConnections: count('max-connections', RELAY_DEFAULTS.maxConnections),
    maxPerIp: count('max-per-ip', RELAY_DEFAULTS.maxPerIp),
    handshakeTimeoutMs,
    logLevel: level,
  };
}

function isCommand(word: string): word is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(word);
}

/** Decimal digits only (no sign, exponent, hex or spaces), within safe integers. */
function wholeNumber(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
