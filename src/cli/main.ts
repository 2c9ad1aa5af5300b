// `toxrelay`: parses the command line, then runs the relay or one of the small key commands.
// Bundled to build/cli.js; bin/toxrelay.js calls main() and exits with the number it returns:
// 0 done, 1 error (one line on stderr, no stack trace; a bad config file too), 2 usage error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../clock.ts';
import { generateKeyFile, loadOrCreateKeys, readPublicKey, toHex } from '../keys.ts';
import { createLogger } from '../log.ts';
import { isLoopback } from '../loopback.ts';
import { packageRoot } from '../package-root.ts';
import { openFilesWarning } from './limits.ts';
import { RELAY_DEFAULTS, type RelayOptions } from '../relay/options.ts';
import { loadRunConfig } from '../config/load.ts';
import type { Note } from '../config/settings.ts';
import { CliError, parseCommandLine, type RunConfig } from './args.ts';
import { helpText } from './help.ts';
// For its side effect only: in a bench worker (a thread or process loading this bundle) it starts
// the worker; anywhere else it does nothing.
import '../bench/entry.ts';
import { nextSignal } from './signals.ts';

export async function main(argv: string[]): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    switch (command.kind) {
      case 'help':
        process.stdout.write(helpText(packageVersion()));
        return 0;
      case 'version':
        process.stdout.write(`toxrelay ${packageVersion()}\n`);
        return 0;
      case 'keygen': {
        const keys = await generateKeyFile(command.file, { force: command.force });
        process.stdout.write(`Wrote a new keypair to ${command.file}\nPublic key: ${toHex(keys.publicKey)}\n`);
        return 0;
      }
      case 'pubkey':
        process.stdout.write(`${toHex(await readPublicKey(command.file))}\n`);
        return 0;
      case 'run':
        return await run(command.config);
      case 'run-config': {
        const { config, notes } = await loadRunConfig(command);
        return await run(config, notes);
      }
      case 'bench': {
        const { benchMain } = await import('../bench/cli.ts');
        return await benchMain(command.args);
      }
      case 'testbed': {
        const { testbedMain } = await import('../testbed/command.ts');
        return await testbedMain(command.args);
      }
    }
  } catch (err) {
    process.stderr.write(`toxrelay: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return err instanceof CliError ? 2 : 1;
  }
}

async function run(config: RunConfig, notes: readonly Note[] = []): Promise<number> {
  const logger = createLogger(config.logLevel);
  for (const note of notes) logger[note.level](note.text);
  const keys = await loadOrCreateKeys(config.keysFile);
  for (const warning of keys.warnings) logger.warn(warning);
  if (keys.created) logger.info(`created keys file ${config.keysFile} with a new keypair (mode 0600)`);
  // Not a log line: what an operator hands out to clients, printed at every log level.
  process.stdout.write(`Public key: ${toHex(keys.publicKey)}\n`);

  const options: RelayOptions = {
    ...RELAY_DEFAULTS,
    ports: config.ports,
    ...(config.wsPorts === undefined ? {} : { wsPorts: config.wsPorts }),
    ...(config.host === undefined ? {} : { host: config.host }),
    ...(config.udpPort === undefined ? {} : { udpPort: config.udpPort, udpToThisHost: config.udpToThisHost }),
    publicKey: keys.publicKey,
    secretKey: keys.secretKey,
    maxConnections: config.maxConnections,
    maxPerIp: config.maxPerIp,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    busyPollUs: config.busyPollUs,
    logger,
    clock: systemClock,
  };
  // Loaded here rather than imported at the top, so that help, keygen and pubkey do not load the
  // relay and its WebAssembly core.
  const descriptors = openFilesWarning(config.maxConnections);
  if (descriptors) logger.warn(descriptors);
  const { startRelay } = await import('../relay/server.ts');
  const relay = await startRelay(options).catch((err: unknown) => {
    if (logger.debugEnabled && err instanceof Error && err.stack) logger.debug(err.stack);
    throw new Error(listenError(err, config));
  });

  let metrics: { port: number; close(): Promise<void> } | undefined;
  if (config.metrics) {
    const { startMetrics } = await import('../metrics/prometheus.ts');
    const { host, port } = config.metrics;
    metrics = await startMetrics(relay, host, port).catch(async (err: unknown) => {
      await relay.close();
      const code = (err as { code?: string }).code;
      throw new Error(`cannot serve metrics on ${host}:${port}${code === 'EADDRINUSE' ? ': the port is already in use' : ''} (${code ?? String(err)})`);
    });
    logger.info(`Prometheus metrics on http://${host.includes(':') ? `[${host}]` : host}:${metrics.port}/metrics`);
  }

  const signal = nextSignal();
  const where = config.host === undefined ? 'every address (IPv4 and IPv6)' : config.host;
  const ports = relay.ports.length === 1 ? `port ${relay.ports[0]}` : `ports ${relay.ports.join(', ')}`;
  const udp = relay.udpPort === undefined ? 'UDP off (--no-udp)' : `UDP port ${relay.udpPort} (onion and forwarding)`;
  const ws = relay.wsPorts.length === 0 ? '' : `, WebSocket ${relay.wsPorts.length === 1 ? 'port' : 'ports'} ${relay.wsPorts.join(', ')}`;
  logger.info(`listening on ${where}, TCP ${ports}${ws}, ${udp}`);
  if (config.busyPollUs > 0) logger.info(`busy polling: after input the loop polls for ${config.busyPollUs} µs instead of sleeping`);
  if (relay.udpPort !== undefined && config.host !== undefined && isLoopback(config.host) && !config.udpToThisHost) {
    // Bound to loopback, UDP reaches only this machine, which is refused without the flag.
    logger.warn('UDP is bound to a loopback address, so onion and forward requests can reach only this machine, and those are refused: pass --udp-to-this-host for a Tox network on one machine, or --no-udp');
  }

  logger.info(`${await signal} received; closing (send it again to exit at once)`);
  // Listeners stop at once and every connection is closed; a close that hangs does not hold the exit.
  const closed = Promise.all([relay.close(), metrics?.close()]).then(() => true);
  const inTime = await Promise.race([closed, new Promise<false>((r) => setTimeout(r, SHUTDOWN_LIMIT_MS, false).unref())]);
  if (inTime) logger.info('closed');
  else {
    logger.warn(`not closed after ${SHUTDOWN_LIMIT_MS / 1000} s; exiting anyway`);
    setTimeout(() => process.exit(0), 100).unref(); // whatever still holds the event loop
  }
  return 0;
}

const SHUTDOWN_LIMIT_MS = 5_000;

/** One line for a failure to start listening (a Node system error from listen(), usually). */
function listenError(err: unknown, config: RunConfig): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown; port?: unknown; address?: unknown; message?: unknown; syscall?: unknown; listener?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  // src/relay/ws.ts tags the errors of WebSocket listeners; dgram reports its failures with
  // syscall 'bind'; TCP listeners with 'listen'.
  const protocol = e.listener === 'WebSocket' ? 'WebSocket' : e.syscall === 'bind' ? 'UDP' : 'TCP';
  const configured = protocol === 'WebSocket' ? (config.wsPorts ?? []) : config.ports;
  const port = typeof e.port === 'number' ? e.port : configured.length === 1 ? configured[0] : undefined;
  const address = typeof e.address === 'string' ? e.address : config.host;
  const portText = port === undefined ? 'a port' : `${protocol} port ${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${portText} is already in use (EADDRINUSE)`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to listen on ${portText} (${code}); ports below 1024 need root or CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `address ${address ?? ''} is not an address of this machine (EADDRNOTAVAIL)`;
    case 'EAFNOSUPPORT':
      return `cannot listen on ${address ?? 'IPv6'}: address family not supported, is IPv6 disabled? (EAFNOSUPPORT)`;
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return code && code.startsWith('E') ? `cannot listen on ${portText}: ${message}` : `cannot start the relay: ${message}`;
    }
  }
}

/** The version in toxrelay's package.json. */
export function packageVersion(): string {
  const root = packageRoot();
  if (!root) return 'unknown';
  return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
