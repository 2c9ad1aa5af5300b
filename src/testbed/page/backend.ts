// Where the page's clients connect: a relay server over WebSocket (the one `toxrelay testbed`
// started, or any other named in /config.json), or a relay running inside this page.
import type { Transport } from '../../client/transport.ts';
import { connectWebSocket } from '../../client/ws.ts';
import { startInPageRelay } from '../../relay/in-page.ts';

export type Mode = 'server' | 'inpage';

/** What /config.json says (see src/testbed/command.ts). */
export interface ServerConfig {
  wsUrl: string;
  /** The relay's public key, 64 hex digits. */
  publicKey: string;
  /** True when the testbed command started this relay itself. */
  managed?: boolean;
}

export interface RelayCounters {
  accepted: number;
  handshakes: number;
  framesIn: number;
  framesOut: number;
  dropped: number;
}

export interface Backend {
  readonly mode: Mode;
  readonly publicKey: Uint8Array;
  /** Where the relay is, for the header. */
  readonly where: string;
  connect(): Promise<Transport>;
  /** The relay's own counters, when the page can see them (in-page mode). */
  stats(): RelayCounters | undefined;
  close(): void;
}

export function parseKey(hexKey: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hexKey)) throw new Error(`a relay key is 64 hex digits; got '${hexKey}'`);
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = parseInt(hexKey.slice(2 * i, 2 * i + 2), 16);
  return key;
}

/** /config.json, or undefined when the page is served without one (a static server). */
export async function fetchServerConfig(): Promise<ServerConfig | undefined> {
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3000);
    const response = await fetch('config.json', { cache: 'no-store', signal: controller.signal });
    clearTimeout(timer);
    if (!response.ok) return undefined;
    const config = (await response.json()) as Partial<ServerConfig>;
    if (typeof config.wsUrl !== 'string' || typeof config.publicKey !== 'string') return undefined;
    parseKey(config.publicKey);
    return config as ServerConfig;
  } catch {
    return undefined;
  }
}

export function serverBackend(config: ServerConfig): Backend {
  const publicKey = parseKey(config.publicKey);
  return {
    mode: 'server',
    publicKey,
    where: config.wsUrl,
    connect: () => connectWebSocket(config.wsUrl, undefined, { timeoutMs: 5000 }),
    stats: () => undefined,
    close: () => {},
  };
}

export async function inPageBackend(): Promise<Backend> {
  const response = await fetch('core.wasm');
  if (!response.ok) throw new Error(`core.wasm: HTTP ${response.status}`);
  const wasm = await response.arrayBuffer();
  const relay = await startInPageRelay({ wasm, maxConnections: 256, autoTimers: true });
  return {
    mode: 'inpage',
    publicKey: relay.publicKey,
    where: 'inside this page (WebAssembly core, in-memory transport)',
    connect: async () => relay.connect(),
    stats: () => relay.relay.stats,
    close: () => relay.close(),
  };
}
