// `toxrelay testbed`: serves the testbed page (build/testbed/) over HTTP and, unless told to use
// another relay (--relay-url and --relay-key), starts a relay in this process with a WebSocket
// listener on a free port, on the same host. The page learns the relay's ws:// URL and key from
// GET /config.json. SIGINT/SIGTERM stop both. Exit status: 0 stopped by a signal, 1 error, 2 usage.

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli/args.ts';
import { systemClock } from '../clock.ts';
import { toHex } from '../keys.ts';
import { createLogger } from '../log.ts';
import { packageRoot } from '../package-root.ts';
import { RELAY_DEFAULTS } from '../relay/options.ts';
import { nextSignal } from '../cli/signals.ts';

export const DEFAULT_TESTBED_PORT = 8080;
export const DEFAULT_TESTBED_HOST = '127.0.0.1';

export interface TestbedConfig {
  port: number;
  host: string;
  /** Another relay for the page; both set or neither. */
  relayUrl?: string;
  relayKey?: string;
}

export type TestbedCommand = { kind: 'help' } | { kind: 'run'; config: TestbedConfig };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function testbedHelpText(): string {
  return `toxrelay testbed — a web page to watch and drive a Tox relay

Usage:
  toxrelay testbed [--port N] [--host ADDR] [--relay-url ws://HOST:PORT/ --relay-key HEX]

Serves the testbed page over HTTP and prints its address. By default it also starts a relay in
this process (WebSocket and TCP on free ports, no UDP, a fresh key each run) on the same host,
and the page's clients connect to it over WebSocket. With --relay-url and --relay-key the page
uses that relay instead (a toxrelay started with --ws-port, say). The page also has an in-page
mode that runs the relay's WebAssembly core in the browser itself.

Options:
  --port N          HTTP port of the page (default: ${DEFAULT_TESTBED_PORT}; 0 means any free port)
  --host ADDR       address to listen on, for the page and the relay (default: ${DEFAULT_TESTBED_HOST})
  --relay-url URL   a relay's WebSocket URL (ws:// or wss://) for the page to use
  --relay-key HEX   that relay's public key, 64 hex digits
  --help, -h        show this text

SIGINT or SIGTERM stops the page server and the relay. Build the page first: npm run build.
`;
}

export function parseTestbedArgs(argv: readonly string[]): TestbedCommand {
  if (argv.some((a) => a === '--help' || a === '-h')) return { kind: 'help' };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { port: { type: 'string' }, host: { type: 'string' }, 'relay-url': { type: 'string' }, 'relay-key': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new CliError(`unknown option ${unknown[1]} for testbed (see toxrelay testbed --help)`);
    const positional = /Unexpected argument '([^']+)'/.exec(message);
    if (positional) throw new CliError(`testbed takes no arguments; got '${positional[1]}' (see toxrelay testbed --help)`);
    const missing = /^Option '(?:-\w, )?(--[\w-]+)/.exec(message);
    if (missing && /argument missing/.test(message)) throw new CliError(`${missing[1]} needs a value (see toxrelay testbed --help)`);
    throw new CliError(`testbed: ${message}`);
  }
  const v = parsed.values;
  let port = DEFAULT_TESTBED_PORT;
  if (v.port !== undefined) {
    if (!/^\d{1,5}$/.test(v.port) || Number(v.port) > 65535) throw new CliError(`--port: expected an HTTP port number 1..65535, or 0 for any free port; got '${v.port}'`);
    port = Number(v.port);
  }
  const host = v.host ?? DEFAULT_TESTBED_HOST;
  if (host !== 'localhost' && isIP(host) === 0) throw new CliError(`--host: expected an IPv4 or IPv6 address, or 'localhost'; got '${host}'`);
  const relayUrl = v['relay-url'];
  const relayKey = v['relay-key'];
  if ((relayUrl === undefined) !== (relayKey === undefined)) throw new CliError('--relay-url and --relay-key go together: give both, or neither to start a relay here');
  if (relayUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(relayUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) throw new CliError(`--relay-url: expected a ws:// or wss:// URL; got '${relayUrl}'`);
  }
  if (relayKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(relayKey)) throw new CliError(`--relay-key: expected 64 hex digits; got '${relayKey}'`);
  return {
    kind: 'run',
    config: { port, host, ...(relayUrl === undefined ? {} : { relayUrl }), ...(relayKey === undefined ? {} : { relayKey: relayKey.toUpperCase() }) },
  };
}

export async function testbedMain(argv: readonly string[]): Promise<number> {
  const command = parseTestbedArgs(argv);
  if (command.kind === 'help') {
    process.stdout.write(testbedHelpText());
    return 0;
  }
  const config = command.config;
  const root = packageRoot();
  const pageDir = root ? join(root, 'build', 'testbed') : undefined;
  try {
    if (!pageDir) throw new Error('no package root');
    await readFile(join(pageDir, 'app.js'));
    await readFile(join(pageDir, 'index.html'));
  } catch {
    throw new Error(`the testbed page is not built (${pageDir ?? 'build/testbed'}/app.js is missing); run \`npm run build\` first`);
  }

  const signal = nextSignal();
  let relay: { close(): Promise<void> } | undefined;
  let pageConfig: { wsUrl: string; publicKey: string; managed: boolean };
  if (config.relayUrl !== undefined && config.relayKey !== undefined) {
    pageConfig = { wsUrl: config.relayUrl, publicKey: config.relayKey, managed: false };
  } else {
    const started = await startLocalRelay(config.host);
    relay = started;
    pageConfig = { wsUrl: started.wsUrl, publicKey: started.publicKey, managed: true };
  }

  let server: Server;
  try {
    server = await listen(config, pageDir!, pageConfig);
  } catch (error) {
    await relay?.close();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const pageUrl = `http://${urlHost(config.host)}:${port}/`;
  process.stdout.write(
    `Testbed: ${pageUrl}\n` +
      `Relay: ${pageConfig.wsUrl} key ${pageConfig.publicKey}${pageConfig.managed ? ' (started here, stops with the testbed)' : ''}\n` +
      'Open the page in a browser; Ctrl-C stops.\n',
  );

  await signal;
  server.closeAllConnections();
  await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), relay?.close()]);
  return 0;
}

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

async function startLocalRelay(host: string): Promise<{ wsUrl: string; publicKey: string; close(): Promise<void> }> {
  const { loadSodium } = await import('../crypto/sodium.ts');
  const { boxKeyPair } = await import('../crypto/random.ts');
  const { startRelay } = await import('../relay/server.ts');
  const sodium = await loadSodium();
  const keys = boxKeyPair(sodium);
  const running = await startRelay({
    ...RELAY_DEFAULTS,
    ports: [0],
    wsPorts: [0],
    host,
    publicKey: keys.publicKey,
    secretKey: keys.privateKey,
    logger: createLogger('warn'),
    clock: systemClock,
  }).catch((error: unknown) => {
    throw new Error(`cannot start the relay on ${host}: ${(error as Error).message}`);
  });
  return { wsUrl: `ws://${urlHost(host)}:${running.wsPorts[0]}/`, publicKey: toHex(keys.publicKey), close: () => running.close() };
}

function listen(config: TestbedConfig, pageDir: string, pageConfig: object): Promise<Server> {
  const server = createServer((request, response) => {
    serve(request, response, pageDir, pageConfig).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('internal error\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `HTTP port ${config.port} on ${config.host}`;
      if (error.code === 'EADDRINUSE') reject(new Error(`${where} is already in use (EADDRINUSE); pick another with --port`));
      else if (error.code === 'EACCES' || error.code === 'EPERM') reject(new Error(`no permission to listen on ${where} (${error.code})`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new Error(`address ${config.host} is not an address of this machine (EADDRNOTAVAIL)`));
      else reject(new Error(`cannot listen on ${where}: ${error.message}`));
    });
    server.listen(config.port, config.host, () => resolve(server));
  });
}

async function serve(request: IncomingMessage, response: ServerResponse, pageDir: string, pageConfig: object): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    response.end('method not allowed\n');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('bad request\n');
    return;
  }
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (path === '/config.json') {
    const body = `${JSON.stringify(pageConfig)}\n`;
    response.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES['.json']!, 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(pageDir, path));
  const type = CONTENT_TYPES[extname(file)];
  if (!file.startsWith(pageDir + sep) || !type || path.includes('\0')) {
    notFound(response);
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    notFound(response);
    return;
  }
  response.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function notFound(response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  response.end('not found\n');
}

