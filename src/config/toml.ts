// `--config FILE`: a TOML file whose keys are the flags of `toxrelay run`, without the dashes in
// front. Every key is optional; an unknown key, a value of the wrong type or out of range is a
// ConfigError naming FILE:LINE: KEY. A relative `keys` path is taken from the file's directory.
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../cli/errors.ts';
import { isLogLevel, type LogLevel } from '../log.ts';
import { at, EXPECTED, isBusyPoll, isCount, isHost, isPort, parseMetricsAddress, show, timeoutMs, type FileWhere, type Layer } from './settings.ts';

export const TOML_KEYS = [
  'port', 'host', 'ws-port', 'udp-port', 'no-udp', 'udp-to-this-host', 'keys',
  'max-connections', 'max-per-ip', 'handshake-timeout', 'busy-poll', 'log-level', 'metrics',
] as const;

const TOML_EXPECTED: Record<string, string> = {
  ...EXPECTED,
  port: `${EXPECTED.port} (or an array of them)`,
  'ws-port': `${EXPECTED['ws-port']} (or an array of them)`,
  'no-udp': 'true or false',
  'udp-to-this-host': 'true or false',
};

export function tomlLayer(text: string, file: string): Layer {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const message = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      throw new ConfigError(`${file}:${err.line}: not valid TOML: ${message}`);
    }
    throw err;
  }
  const lines = keyLines(text);
  const where = (key: string): FileWhere => ({ file, line: lines.get(key) ?? 0, key });
  const bad = (key: string, value: unknown) => new ConfigError(`${at(where(key))}: expected ${TOML_EXPECTED[key]}; got ${show(value)}`);
  const set = <T>(key: string, value: T) => ({ value, where: where(key) });

  const layer: Layer = {};
  for (const [key, value] of Object.entries(doc)) {
    switch (key) {
      case 'port':
      case 'ws-port': {
        const list = Array.isArray(value) ? value : [value];
        const ports: number[] = [];
        for (const p of list) {
          if (typeof p !== 'number' || !isPort(p)) throw bad(key, p);
          if (p !== 0 && ports.includes(p)) throw new ConfigError(`${at(where(key))}: port ${p} is listed twice`);
          ports.push(p);
        }
        if (key === 'port') {
          if (ports.length === 0) throw new ConfigError(`${at(where(key))}: expected at least one TCP port; got []`);
          layer.ports = set(key, ports);
        } else if (ports.length > 0) {
          layer.wsPorts = set(key, ports);
        }
        break;
      }
      case 'host':
        if (typeof value !== 'string' || !isHost(value)) throw bad(key, value);
        layer.host = set(key, value);
        break;
      case 'udp-port':
        if (typeof value !== 'number' || !isPort(value)) throw bad(key, value);
        if (doc['no-udp'] === true) {
          throw new ConfigError(`${at(where('no-udp'))}: no-udp = true and udp-port (line ${lines.get('udp-port')}) cannot be set together`);
        }
        layer.udpPort = set(key, value);
        break;
      case 'no-udp':
        if (typeof value !== 'boolean') throw bad(key, value);
        if (value) layer.udpPort = set<number | null>(key, null);
        break;
      case 'udp-to-this-host':
        if (typeof value !== 'boolean') throw bad(key, value);
        layer.udpToThisHost = set(key, value);
        break;
      case 'keys':
        if (typeof value !== 'string' || value === '') throw bad(key, value);
        layer.keysFile = set(key, resolve(dirname(file), value));
        break;
      case 'max-connections':
      case 'max-per-ip':
        if (typeof value !== 'number' || !isCount(value)) throw bad(key, value);
        layer[key === 'max-per-ip' ? 'maxPerIp' : 'maxConnections'] = set(key, value);
        break;
      case 'handshake-timeout': {
        const ms = typeof value === 'number' ? timeoutMs(value) : undefined;
        if (ms === undefined) throw bad(key, value);
        layer.handshakeTimeoutMs = set(key, ms);
        break;
      }
      case 'busy-poll':
        if (typeof value !== 'number' || !isBusyPoll(value)) throw bad(key, value);
        layer.busyPollUs = set(key, value);
        break;
      case 'log-level':
        if (typeof value !== 'string' || !isLogLevel(value)) throw bad(key, value);
        layer.logLevel = set<LogLevel>(key, value);
        break;
      case 'metrics': {
        const address = typeof value === 'string' ? parseMetricsAddress(value) : undefined;
        if (!address) throw bad(key, value);
        layer.metrics = set(key, address);
        break;
      }
      default: {
        const hint = didYouMean(key);
        throw new ConfigError(
          `${at(where(key))}: unknown key${hint ? `; did you mean ${hint}?` : ''} (the keys are ${TOML_KEYS.join(', ')})`,
        );
      }
    }
  }
  return layer;
}

/** A known key that `key` is probably a misspelling of: `ports`, `udp_port`, `--max-per-ip`, `logLevel`. */
function didYouMean(key: string): string | undefined {
  const norm = (k: string) => k.replace(/^-+/, '').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase().replace(/_/g, '-').replace(/s$/, '');
  return TOML_KEYS.find((k) => norm(k) === norm(key));
}

/**
 * The line of each top-level key (a key = value before any [table], or a table header), for
 * messages: smol-toml gives line numbers for syntax errors only. The document has already parsed,
 * so a light scan is enough.
 */
function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const key = String.raw`(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))`;
  const assignment = new RegExp(String.raw`^\s*${key}\s*[.=]`);
  const header = new RegExp(String.raw`^\s*\[\[?\s*${key}`);
  let inTable = false;
  let inMultiline: string | undefined;
  text.split('\n').forEach((raw, i) => {
    // Skip the inside of multi-line strings, whose lines may look like keys.
    if (inMultiline) {
      if (raw.includes(inMultiline)) inMultiline = undefined;
      return;
    }
    const h = header.exec(raw);
    const m = h ?? (inTable ? null : assignment.exec(raw));
    if (h) inTable = true;
    if (m) {
      const name = m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : (m[2] ?? m[3])!;
      if (!lines.has(name)) lines.set(name, i + 1);
    }
    for (const q of ['"""', "'''"]) {
      const count = raw.split(q).length - 1;
      if (count % 2 === 1) inMultiline = q;
    }
  });
  return lines;
}
