// The settings of `toxrelay run`, from wherever they come: flags, a TOML config (--config) or a
// tox-bootstrapd config (--bootstrapd-config). Each source gives a Layer of the settings it sets,
// each with where it was set; finish() stacks the layers (the first wins), fills in the defaults
// and checks the settings against each other, blaming the flag or the file line that is at fault.
import { isIP } from 'node:net';
import { CliError, ConfigError } from '../cli/errors.ts';
import { LOG_LEVELS, type LogLevel } from '../log.ts';
import { RELAY_DEFAULTS } from '../relay/options.ts';

export const DEFAULT_KEYS_FILE = './toxrelay.keys';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** tox-bootstrapd's default UDP port (its DHT, onion and forwarding port). */
export const DEFAULT_UDP_PORT = 33445;
/** Longest --handshake-timeout accepted: one day (timers beyond ~24.8 days overflow in Node). */
export const MAX_TIMEOUT_SECONDS = 86_400;
/** Longest --busy-poll window: 10 ms, past which polling only burns CPU (a sleeping loop wakes within ~1 ms). */
export const MAX_BUSY_POLL_US = 10_000;

/** The settings of the default command (`run`), validated and in the units RelayOptions uses. */
export interface RunConfig {
  ports: number[];
  /** undefined: every address, IPv4 and IPv6. */
  host?: string;
  /** WebSocket ports; absent (the default) means no WebSocket. */
  wsPorts?: number[];
  /** The onion and forwarding UDP port; undefined with --no-udp. */
  udpPort?: number;
  /** Onion and forward requests may reach this machine (a Tox network on one machine). */
  udpToThisHost: boolean;
  keysFile: string;
  maxConnections: number;
  maxPerIp: number;
  handshakeTimeoutMs: number;
  /** Busy-polling window after input, in µs; 0 (the default) sleeps as usual. */
  busyPollUs: number;
  logLevel: LogLevel;
  /** Where the Prometheus endpoint listens; absent (the default) means none. */
  metrics?: MetricsAddress;
}

export interface MetricsAddress {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[IPv6]:PORT` of --metrics, or undefined when malformed. */
export function parseMetricsAddress(text: string): MetricsAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  return isHost(host) && port >= 1 && port <= 65535 ? { host, port } : undefined;
}

/** Where a setting came from: a flag, or a key of a config file (line 0: the file's default). */
export type FileWhere = { file: string; line: number; key: string };
export type Where = { flag: string } | FileWhere;

export interface Setting<T> {
  value: T;
  where: Where;
}

/** What one source sets. udpPort null means no UDP (--no-udp). */
export interface Layer {
  ports?: Setting<number[]>;
  wsPorts?: Setting<number[]>;
  host?: Setting<string>;
  udpPort?: Setting<number | null>;
  udpToThisHost?: Setting<boolean>;
  keysFile?: Setting<string>;
  maxConnections?: Setting<number>;
  maxPerIp?: Setting<number>;
  handshakeTimeoutMs?: Setting<number>;
  busyPollUs?: Setting<number>;
  logLevel?: Setting<LogLevel>;
  metrics?: Setting<MetricsAddress>;
}

/** A line for the operator from reading a config file, logged once the logger exists. */
export interface Note {
  level: 'info' | 'warn';
  text: string;
}

/** What each setting accepts, for error messages; flags and TOML keys share these names. */
export const EXPECTED: Record<string, string> = {
  port: 'a TCP port number 1..65535, or 0 for any free port',
  'ws-port': 'a WebSocket (TCP) port number 1..65535, or 0 for any free port',
  host: "an IPv4 or IPv6 address, or 'localhost'",
  'udp-port': 'a UDP port number 1..65535, or 0 for any free port',
  keys: 'a file path',
  'max-connections': 'a whole number ≥ 1',
  'max-per-ip': 'a whole number ≥ 1',
  'handshake-timeout': `seconds, a number > 0 and ≤ ${MAX_TIMEOUT_SECONDS} (decimals allowed)`,
  'busy-poll': `microseconds, a whole number from 0 (off) to ${MAX_BUSY_POLL_US}`,
  'log-level': `one of ${LOG_LEVELS.join(', ')}`,
  metrics: 'HOST:PORT for the Prometheus endpoint, such as 127.0.0.1:9464 or [::1]:9464',
  config: 'a TOML config file',
  'bootstrapd-config': "a tox-bootstrapd config file (such as /etc/tox-bootstrapd.conf)",
};

export const isPort = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= 65535;
export const isCount = (n: number) => Number.isSafeInteger(n) && n >= 1;
export const isBusyPoll = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_BUSY_POLL_US;
export const isHost = (s: string) => s === 'localhost' || isIP(s) !== 0;
/** Seconds → milliseconds, or undefined when out of range. */
export function timeoutMs(seconds: number): number | undefined {
  const ms = Math.round(seconds * 1000);
  return ms >= 1 && seconds <= MAX_TIMEOUT_SECONDS ? ms : undefined;
}

/** `FILE:LINE: KEY` (or `FILE: KEY` for a file's default), the start of a config error. */
export function at(where: FileWhere): string {
  return where.line > 0 ? `${where.file}:${where.line}: ${where.key}` : `${where.file}: ${where.key}`;
}

function describe(where: Where | undefined, defaults: string): string {
  if (where === undefined) return defaults;
  return 'flag' in where ? `--${where.flag}` : at(where);
}

/** Stacks `layers` (the first one wins), applies the defaults and checks the whole. */
export function finish(layers: readonly Layer[]): RunConfig {
  const pick = <K extends keyof Layer>(key: K): Layer[K] => layers.map((l) => l[key]).find((s) => s !== undefined);

  const portsSetting = pick('ports');
  const ports = [...(portsSetting?.value ?? RELAY_DEFAULTS.ports)];
  const wsSetting = pick('wsPorts');
  const wsPorts = wsSetting?.value ?? [];
  // WebSocket listens on TCP ports too, so it cannot share one with the TCP ports (0 is a fresh free port each time).
  for (const port of wsPorts) {
    if (port === 0 || !ports.includes(port)) continue;
    const ws = wsSetting!.where;
    const tcp = portsSetting?.where;
    if ('file' in ws) {
      throw new ConfigError(`${at(ws)}: ${port} is also a TCP port (${describe(tcp, `default ${RELAY_DEFAULTS.ports.join(', ')}`)})`);
    }
    if (tcp && 'file' in tcp) throw new ConfigError(`${at(tcp)}: ${port} is also a WebSocket port (--ws-port)`);
    throw new CliError(`--ws-port ${port} is also a TCP port (--port, default ${RELAY_DEFAULTS.ports.join(', ')})`);
  }

  const host = pick('host')?.value;
  const metrics = pick('metrics')?.value;
  const udp = pick('udpPort');
  const udpPort = udp === undefined ? DEFAULT_UDP_PORT : udp.value ?? undefined;
  return {
    ports,
    ...(wsPorts.length === 0 ? {} : { wsPorts: [...wsPorts] }),
    ...(host === undefined ? {} : { host }),
    ...(udpPort === undefined ? {} : { udpPort }),
    udpToThisHost: pick('udpToThisHost')?.value ?? false,
    keysFile: pick('keysFile')?.value ?? DEFAULT_KEYS_FILE,
    maxConnections: pick('maxConnections')?.value ?? RELAY_DEFAULTS.maxConnections,
    maxPerIp: pick('maxPerIp')?.value ?? RELAY_DEFAULTS.maxPerIp,
    handshakeTimeoutMs: pick('handshakeTimeoutMs')?.value ?? RELAY_DEFAULTS.handshakeTimeoutMs,
    busyPollUs: pick('busyPollUs')?.value ?? RELAY_DEFAULTS.busyPollUs,
    logLevel: pick('logLevel')?.value ?? DEFAULT_LOG_LEVEL,
    ...(metrics === undefined ? {} : { metrics }),
  };
}

/** A config value as an operator would write it, for "got …" in messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return 'a table';
  return String(value);
}
