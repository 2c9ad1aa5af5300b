// `--bootstrapd-config FILE`: the settings a TCP relay shares with tox-bootstrapd, read from its
// config (libconfig syntax, PROTOCOL.md §10), so an operator can switch with the same key and ports:
//   keys_file_path   → keys (relative paths from the config file's directory)
//   tcp_relay_ports  → the TCP ports (1..65535, at least one)
//   port             → the UDP port (onion and forwarding)
//   enable_ipv6      → false: IPv4 only (host 0.0.0.0, unless a host is given)
//   enable_tcp_relay → false: refused, there is nothing to run
//   motd             → accepted and ignored (toxrelay has no DHT to announce it)
// A shared key that is missing takes tox-bootstrapd's default, as tox-bootstrapd does. Its DHT-only
// keys are ignored with one info line; any other key gets a warning; neither is an error.
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../cli/errors.ts';
import { LibconfigError, parseLibconfig, type LibconfigValue } from './libconfig.ts';
import { at, type Layer, type Note } from './settings.ts';

/** tox-bootstrapd's defaults (config_defaults.h) for the keys toxrelay uses. */
export const BOOTSTRAPD_DEFAULTS = {
  keys_file_path: 'tox-bootstrapd.keys',
  tcp_relay_ports: [443, 3389, 33445],
  port: 33445,
} as const;

/** tox-bootstrapd keys that belong to its DHT node or daemon, not to a TCP relay. */
const DHT_ONLY = ['pid_file_path', 'enable_ipv4_fallback', 'enable_lan_discovery', 'enable_motd', 'bootstrap_nodes'];

export function bootstrapdLayer(text: string, file: string): { layer: Layer; notes: Note[] } {
  let settings;
  try {
    settings = parseLibconfig(text);
  } catch (err) {
    if (err instanceof LibconfigError) throw new ConfigError(`${file}:${err.line}: not valid libconfig: ${err.message}`);
    throw err;
  }
  const layer: Layer = {};
  const notes: Note[] = [];
  const ignored: string[] = [];
  const where = (key: string, line: number) => ({ file, line, key });
  const show = (v: LibconfigValue): string =>
    v.type === 'string' ? JSON.stringify(v.value)
    : v.type === 'array' ? `[${v.value.map(show).join(', ')}]`
    : v.type === 'list' ? 'a list'
    : v.type === 'group' ? 'a group'
    : String(v.value);
  const bad = (key: string, v: LibconfigValue, expected: string) =>
    new ConfigError(`${at(where(key, v.line))}: expected ${expected}; got ${show(v)}`);
  const port = (v: LibconfigValue) => v.type === 'int' && Number.isSafeInteger(v.value) && v.value >= 1 && v.value <= 65535;

  const seen = new Set<string>();
  for (const { name, value: v, line } of settings) {
    seen.add(name);
    switch (name) {
      case 'keys_file_path':
        if (v.type !== 'string' || v.value === '') throw bad(name, v, 'a file path in double quotes');
        layer.keysFile = { value: resolve(dirname(file), v.value), where: where(name, line) };
        break;
      case 'tcp_relay_ports': {
        const expected = 'an array of TCP port numbers 1..65535, such as [443, 3389, 33445]';
        if (v.type !== 'array') throw bad(name, v, expected);
        const ports: number[] = [];
        for (const p of v.value) {
          if (!port(p)) throw bad(name, p, 'each port a TCP port number 1..65535');
          if (ports.includes(p.value as number)) throw new ConfigError(`${at(where(name, p.line))}: port ${p.value} is listed twice`);
          ports.push(p.value as number);
        }
        if (ports.length === 0) throw new ConfigError(`${at(where(name, line))}: expected at least one TCP port; got []`);
        layer.ports = { value: ports, where: where(name, line) };
        break;
      }
      case 'port':
        if (!port(v)) throw bad(name, v, 'a UDP port number 1..65535');
        layer.udpPort = { value: v.value as number, where: where(name, line) };
        break;
      case 'enable_ipv6':
        if (v.type !== 'bool') throw bad(name, v, 'true or false');
        if (!v.value) layer.host = { value: '0.0.0.0', where: where(name, line) };
        break;
      case 'enable_tcp_relay':
        if (v.type !== 'bool') throw bad(name, v, 'true or false');
        if (!v.value) {
          throw new ConfigError(`${at(where(name, line))}: false: this tox-bootstrapd runs no TCP relay, so toxrelay has nothing to run (set it to true to relay)`);
        }
        break;
      case 'motd':
        if (v.type !== 'string') throw bad(name, v, 'a string in double quotes');
        notes.push({ level: 'info', text: `${at(where(name, line))}: ignored: toxrelay has no DHT node to announce a message of the day` });
        break;
      default:
        if (DHT_ONLY.includes(name)) ignored.push(name);
        else notes.push({ level: 'warn', text: `${at(where(name, line))}: unknown key, ignored` });
    }
  }
  if (ignored.length > 0) {
    notes.push({ level: 'info', text: `${file}: ignoring tox-bootstrapd's DHT and daemon settings, which a TCP relay does not use: ${ignored.join(', ')}` });
  }
  // As tox-bootstrapd: a missing key takes its default.
  if (!seen.has('keys_file_path')) {
    const keys = resolve(dirname(file), BOOTSTRAPD_DEFAULTS.keys_file_path);
    layer.keysFile = { value: keys, where: where('keys_file_path', 0) };
    notes.push({ level: 'info', text: `${file}: keys_file_path is not set; using tox-bootstrapd's default, ${keys}` });
  }
  if (!seen.has('tcp_relay_ports')) {
    layer.ports = { value: [...BOOTSTRAPD_DEFAULTS.tcp_relay_ports], where: where('tcp_relay_ports', 0) };
    notes.push({ level: 'info', text: `${file}: tcp_relay_ports is not set; using tox-bootstrapd's default, ${BOOTSTRAPD_DEFAULTS.tcp_relay_ports.join(', ')}` });
  }
  return { layer, notes };
}
