// Starting and stopping a relay: the core, the crypto, the listeners and the timer.

import type { Server, Socket } from 'node:net';
import { RelayCore } from '../core/core.ts';
import { CoreModule } from '../core/exports.ts';
import { FrameBox } from '../crypto/box.ts';
import { loadSodium } from '../crypto/sodium.ts';
import { boundPort, closeServer, listenAll } from './listeners.ts';
import type { RelayOptions } from './options.ts';
import { Relay } from './relay.ts';
import { UdpEndpoint } from '../udp/endpoint.ts';
import { Forwarder } from '../udp/forwarding.ts';
import { OnionHop } from '../udp/onion.ts';
import { UdpStats } from '../udp/return-path.ts';
import type { Session } from './session.ts';
import { TcpWire } from './wire.ts';

const TIMER_PERIOD_MS = 1000;

export interface RunningRelay {
  /** The ports actually bound (useful with port 0). */
  readonly ports: number[];
  /** The UDP port bound, if the UDP side is on. */
  readonly udpPort: number | undefined;
  readonly udpStats: UdpStats | undefined;
  readonly relay: Relay;
  readonly publicKey: Uint8Array;
  close(): Promise<void>;
}

function randomSeed(sodium: Awaited<ReturnType<typeof loadSodium>>): bigint {
  const bytes = sodium.randombytes_buf(8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const sodium = await loadSodium();
  const core = await RelayCore.create({
    maxConnections: options.maxConnections,
    pingIntervalMs: options.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    seed: randomSeed(sodium),
    modules: options.udpPort === undefined ? 0 : CoreModule.ONION | CoreModule.FORWARDING,
  });
  const relay = new Relay(core, new FrameBox(sodium, options.maxConnections), sodium, options);
  const udpStats = options.udpPort === undefined ? undefined : new UdpStats();
  const udp = udpStats && (await UdpEndpoint.bind(options.udpPort!, options.host, udpStats));
  if (udp && udpStats) {
    const onion = new OnionHop(sodium, udp, relay, options.clock, udpStats);
    const forwarder = new Forwarder(sodium, udp, relay, options.clock, udpStats);
    relay.useUdp({
      onion: (slot, id, plaintext) => onion.request(slot, id, plaintext),
      forward: (slot, id, plaintext) => forwarder.request(slot, id, plaintext),
    });
  }
  const sockets = new Set<Socket>();

  // One set of handlers for every socket: an idle connection should cost its socket and little else.
  const sessionOf = new WeakMap<Socket, Session>();
  function onData(this: Socket, chunk: Buffer) {
    const session = sessionOf.get(this);
    if (session) relay.receive(session, chunk);
  }
  // A hang-up is noticed at once and the peers told at once (c-toxcore 0.2.18 waits for the ping timeout).
  function onGone(this: Socket) {
    const session = sessionOf.get(this);
    if (session) relay.disconnected(session);
  }
  function onClose(this: Socket) {
    sockets.delete(this);
    onGone.call(this);
  }
  const onSocket = (socket: Socket) => {
    const session = relay.attach(new TcpWire(socket));
    if (!session) return;
    sessionOf.set(socket, session);
    sockets.add(socket);
    socket.on('data', onData);
    socket.on('end', onGone);
    socket.on('error', onGone);
    socket.on('close', onClose);
  };

  let servers: Server[];
  try {
    servers = await listenAll(options.ports, options.host, onSocket);
  } catch (error) {
    await udp?.close();
    throw error;
  }
  const timer = options.autoTimers ? setInterval(() => relay.runTimers(), TIMER_PERIOD_MS) : undefined;

  let closing: Promise<void> | undefined;
  return {
    ports: servers.map(boundPort),
    udpPort: udp?.port,
    udpStats,
    relay,
    publicKey: options.publicKey,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        const stopped = Promise.all(servers.map(closeServer));
        relay.closeAll();
        for (const socket of sockets) socket.destroy();
        await Promise.all([stopped, udp?.close()]);
      })();
      return closing;
    },
  };
}
