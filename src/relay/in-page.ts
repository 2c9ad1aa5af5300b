// The relay running inside a browser page (the testbed's in-page mode): the same wasm core and
// host logic (relay.ts) as the Node server, with clients attached over in-memory streams
// (memory-wire.ts) instead of sockets. No UDP side: onion requests are ignored and forward
// requests close, as with --no-udp.
//
// This file imports no Node module, directly or through what it imports (a test bundles it for
// the browser to prove it): the caller passes the bytes of build/core.wasm.

import type { Transport } from '../client/transport.ts';
import { systemClock, type Clock } from '../clock.ts';
import { CoreInstance } from '../core/instance.ts';
import { FrameBox } from '../crypto/box.ts';
import { sodiumKeyAgreement } from '../crypto/key-agreement.ts';
import { boxKeyPair, randomBytes } from '../crypto/random.ts';
import { loadSodium } from '../crypto/sodium.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../silent-logger.ts';
import { Handshaker } from './handshake.ts';
import { connectInMemory, endedInMemory } from './memory-wire.ts';
import { RELAY_DEFAULTS, type RelayOptions } from './options.ts';
import { Relay } from './relay.ts';

const TIMER_PERIOD_MS = 1000;
/** Enough for any page; each connection costs a few hundred bytes of core and sodium memory. */
const DEFAULT_MAX_CONNECTIONS = 1024;

export interface InPageRelay {
  readonly publicKey: Uint8Array;
  /** For stats (relay.stats) and inspection. */
  readonly relay: Relay;
  /** A new client byte stream into the relay (after close(): one that ends at once). */
  connect(): Transport;
  /** One pass of the timers (pings, pong and handshake timeouts); also run every second unless autoTimers is false. */
  runTimers(): void;
  /** Closes every connection and stops the timer. */
  close(): void;
}

export interface InPageRelayOptions {
  /** The bytes of build/core.wasm (in a page: `await (await fetch(url)).arrayBuffer()`). Required. */
  wasm?: BufferSource;
  /** Connections held at once (default 1024). */
  maxConnections?: number;
  /** Default: silent. */
  logger?: Logger;
  /** Default: performance.now(). */
  clock?: Clock;
  /** Run the timers every second (default true); tests driving a ManualClock turn this off. */
  autoTimers?: boolean;
  /** The relay's identity; a fresh one by default. */
  keyPair?: { publicKey: Uint8Array; secretKey: Uint8Array };
}

export async function startInPageRelay(options: InPageRelayOptions = {}): Promise<InPageRelay> {
  const { wasm } = options;
  if (!wasm) throw new TypeError('startInPageRelay needs options.wasm: the bytes of build/core.wasm');
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const sodium = await loadSodium();
  let publicKey: Uint8Array;
  let secretKey: Uint8Array;
  if (options.keyPair) {
    ({ publicKey, secretKey } = options.keyPair);
  } else {
    const generated = boxKeyPair(sodium);
    publicKey = generated.publicKey;
    secretKey = generated.privateKey;
  }
  const relayOptions: RelayOptions = {
    ...RELAY_DEFAULTS,
    ports: [],
    publicKey,
    secretKey,
    maxConnections,
    maxPerIp: maxConnections, // every in-page client has its own address anyway
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
    autoTimers: options.autoTimers ?? true,
  };
  const seedBytes = randomBytes(8);
  const core = await CoreInstance.fromWasm(
    {
      maxConnections,
      pingIntervalMs: relayOptions.pingIntervalMs,
      pingTimeoutMs: relayOptions.pingTimeoutMs,
      handshakeTimeoutMs: relayOptions.handshakeTimeoutMs,
      seed: new DataView(seedBytes.buffer).getBigUint64(0, true),
      modules: 0,
    },
    wasm,
  );
  const handshaker = new Handshaker(sodium, sodiumKeyAgreement(sodium), relayOptions.secretKey);
  const relay = new Relay(core, new FrameBox(sodium, maxConnections), handshaker, relayOptions);
  const timer = relayOptions.autoTimers ? setInterval(() => relay.runTimers(), TIMER_PERIOD_MS) : undefined;
  let closed = false;
  let connections = 0;

  return {
    publicKey,
    relay,
    connect() {
      return closed ? endedInMemory(relay) : connectInMemory(relay, `in-page/${++connections}`);
    },
    runTimers() {
      if (!closed) relay.runTimers();
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      relay.closeAll();
    },
  };
}
