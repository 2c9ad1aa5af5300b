// Command line → what to do. Pure: no I/O, every bad input is a CliError with a one-line message
// that names the flag (or argument) and what was expected.
import { parseArgs } from 'node:util';
import { isLogLevel } from '../log.ts';
import {
  DEFAULT_KEYS_FILE, DEFAULT_LOG_LEVEL, DEFAULT_UDP_PORT, EXPECTED, finish, isBusyPoll, isCount, isHost, isPort, parseMetricsAddress, timeoutMs,
  type Layer, type RunConfig,
} from '../config/settings.ts';
import { CliError } from './errors.ts';

export { CliError, DEFAULT_KEYS_FILE, DEFAULT_LOG_LEVEL, DEFAULT_UDP_PORT, type RunConfig };
export const COMMANDS = ['run', 'keygen', 'pubkey', 'bench', 'testbed', 'help'] as const;

export type Command =
  | { kind: 'run'; config: RunConfig }
  /** run with --config and/or --bootstrapd-config: main reads the files, then stacks flags > TOML > tox-bootstrapd. */
  | { kind: 'run-config'; flags: Layer; configFile?: string; bootstrapdConfigFile?: string }
  | { kind: 'keygen'; file: string; force: boolean }
  | { kind: 'pubkey'; file: string }
  | { kind: 'bench'; args: string[] }
  | { kind: 'testbed'; args: string[] }
  | { kind: 'help' }
  | { kind: 'version' };

type Flag = { type: 'string' | 'boolean' };

/** The flags of each command; --help and --version are handled before these are looked at. */
const FLAGS: Record<(typeof COMMANDS)[number], Record<string, Flag>> = {
  run: {
    port: { type: 'string' },
    host: { type: 'string' },
    'ws-port': { type: 'string' },
    metrics: { type: 'string' },
    'udp-port': { type: 'string' },
    'no-udp': { type: 'boolean' },
    'udp-to-this-host': { type: 'boolean' },
    keys: { type: 'string' },
    'max-connections': { type: 'string' },
    'max-per-ip': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'busy-poll': { type: 'string' },
    'log-level': { type: 'string' },
    config: { type: 'string' },
    'bootstrapd-config': { type: 'string' },
  },
  keygen: { force: { type: 'boolean' } },
  pubkey: {},
  bench: {}, // parsed by src/bench/args.ts
  testbed: {}, // parsed by src/testbed/command.ts
  help: {},
};

/** Flags that may be given more than once. */
const REPEATABLE = new Set(['port', 'ws-port']);

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
    const flags = flagLayer(values);
    const configFile = fileFlag(values, 'config');
    const bootstrapdConfigFile = fileFlag(values, 'bootstrapd-config');
    if (configFile === undefined && bootstrapdConfigFile === undefined) return { kind: 'run', config: finish([flags]) };
    return {
      kind: 'run-config',
      flags,
      ...(configFile === undefined ? {} : { configFile }),
      ...(bootstrapdConfigFile === undefined ? {} : { bootstrapdConfigFile }),
    };
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

function fileFlag(values: Map<string, string[]>, name: string): string | undefined {
  const file = values.get(name)?.[0];
  if (file === '') throw new CliError(`--${name}: expected ${EXPECTED[name]}; got ''`);
  return file;
}

/** The run settings given as flags, each checked on its own (finish() checks them together). */
function flagLayer(values: Map<string, string[]>): Layer {
  const one = (name: string) => values.get(name)?.[0];
  const bad = (name: string, value: string) => new CliError(`--${name}: expected ${EXPECTED[name]}; got '${value}'`);
  const set = <T>(flag: string, value: T) => ({ value, where: { flag } });
  const layer: Layer = {};

  const portList = (name: string) => {
    const ports: number[] = [];
    for (const v of values.get(name) ?? []) {
      const port = wholeNumber(v);
      if (port === undefined || !isPort(port)) throw bad(name, v);
      if (port !== 0 && ports.includes(port)) throw new CliError(`--${name} ${port} is given twice`);
      ports.push(port);
    }
    return ports;
  };
  const ports = portList('port');
  if (ports.length > 0) layer.ports = set('port', ports);
  const wsPorts = portList('ws-port');
  if (wsPorts.length > 0) layer.wsPorts = set('ws-port', wsPorts);

  const host = one('host');
  if (host !== undefined) {
    if (!isHost(host)) throw bad('host', host);
    layer.host = set('host', host);
  }

  const udpText = one('udp-port');
  if (values.has('no-udp')) {
    if (udpText !== undefined) throw new CliError('--udp-port and --no-udp cannot be given together');
    layer.udpPort = set('no-udp', null);
  } else if (udpText !== undefined) {
    const udpPort = wholeNumber(udpText);
    if (udpPort === undefined || !isPort(udpPort)) throw bad('udp-port', udpText);
    layer.udpPort = set('udp-port', udpPort);
  }

  if (values.has('udp-to-this-host')) {
    if (values.has('no-udp')) throw new CliError('--udp-to-this-host and --no-udp cannot be given together');
    layer.udpToThisHost = set('udp-to-this-host', true);
  }

  const metrics = one('metrics');
  if (metrics !== undefined) {
    const address = parseMetricsAddress(metrics);
    if (!address) throw bad('metrics', metrics);
    layer.metrics = set('metrics', address);
  }

  const keysFile = one('keys');
  if (keysFile !== undefined) {
    if (keysFile === '') throw bad('keys', keysFile);
    layer.keysFile = set('keys', keysFile);
  }

  const count = (name: string) => {
    const v = one(name);
    if (v === undefined) return undefined;
    const n = wholeNumber(v);
    if (n === undefined || !isCount(n)) throw bad(name, v);
    return set(name, n);
  };
  const maxConnections = count('max-connections');
  if (maxConnections) layer.maxConnections = maxConnections;
  const maxPerIp = count('max-per-ip');
  if (maxPerIp) layer.maxPerIp = maxPerIp;

  const timeout = one('handshake-timeout');
  if (timeout !== undefined) {
    const ms = /^(\d+(\.\d*)?|\.\d+)$/.test(timeout) ? timeoutMs(Number(timeout)) : undefined;
    if (ms === undefined) throw bad('handshake-timeout', timeout);
    layer.handshakeTimeoutMs = set('handshake-timeout', ms);
  }

  const busyPoll = one('busy-poll');
  if (busyPoll !== undefined) {
    const us = wholeNumber(busyPoll);
    if (us === undefined || !isBusyPoll(us)) throw bad('busy-poll', busyPoll);
    layer.busyPollUs = set('busy-poll', us);
  }

  const level = one('log-level');
  if (level !== undefined) {
    if (!isLogLevel(level)) throw bad('log-level', level);
    layer.logLevel = set('log-level', level);
  }
  return layer;
}

function isCommand(word: string): word is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(word);
}

/** Decimal digits only (no sign, exponent, hex or spaces), within safe integers. */
function wholeNumber(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
