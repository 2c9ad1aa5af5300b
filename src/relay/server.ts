// Starting and stopping a relay: the core, the crypto, the listeners and the timer.

import type { Server } from 'node:net';
import { RelayCore } from '../core/core.ts';
import { CoreModule } from '../core/exports.ts';
import { FrameBox } from '../crypto/box.ts';
import { nativeKeyAgreement } from '../crypto/key-agreement-node.ts';
import { loadSodium } from '../crypto/sodium.ts';
import { Handshaker } from './handshake.ts';
import { BusyPoll } from './busy-poll.ts';
import { boundPort, closeServer, listenAll } from './listeners.ts';
import type { RelayOptions } from './options.ts';
import { Relay } from './relay.ts';
import type { UdpStats } from '../udp/return-path.ts';
import { startUdpSide } from '../udp/side.ts';
import { TcpSessions } from './tcp.ts';
import { boundWsPort, closeWsListener, listenAllWs, WsSessions, type WsListener } from './ws.ts';

const TIMER_PERIOD_MS = 1000;

export interface RunningRelay {
  /** The ports actually bound (useful with port 0). */
  readonly ports: number[];
  /** The WebSocket ports actually bound (empty when WebSocket is off). */
  readonly wsPorts: number[];
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
  const agreement = nativeKeyAgreement(sodium, (why) => options.logger.warn(why));
  const handshaker = new Handshaker(sodium, agreement, options.secretKey);
  const relay = new Relay(core, new FrameBox(sodium, options.maxConnections), handshaker, options);
  const udp =
    options.udpPort === undefined ? undefined : await startUdpSide(sodium, relay, options.udpPort, options.host, options.clock, options.udpToThisHost);
  const busyPoll = new BusyPoll(options.busyPollUs ?? 0);
  const tcp = new TcpSessions(relay, busyPoll.poke);
  const webSockets = new WsSessions(relay, busyPoll.poke);

  let servers: Server[];
  let wsListeners: WsListener[] = [];
  try {
    servers = await listenAll(options.ports, options.host, (socket) => tcp.accept(socket));
    try {
      wsListeners = await listenAllWs(options.wsPorts ?? [], options.host, options, {
        onWebSocket: (ws, socket, request) => webSockets.accept(ws, socket, request),
        onRefusedPerIp: () => relay.stats.refusedPerIp++,
      });
    } catch (error) {
      await Promise.all(servers.map(closeServer));
      throw error;
    }
  } catch (error) {
    await udp?.close();
    throw error;
  }
  const timer = options.autoTimers ? setInterval(() => relay.runTimers(), TIMER_PERIOD_MS) : undefined;

  let closing: Promise<void> | undefined;
  return {
    ports: servers.map(boundPort),
    wsPorts: wsListeners.map(boundWsPort),
    udpPort: udp?.port,
    udpStats: udp?.stats,
    relay,
    publicKey: options.publicKey,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        busyPoll.stop();
        const stopped = Promise.all([...servers.map(closeServer), ...wsListeners.map(closeWsListener)]);
        relay.closeAll();
        tcp.closeAll();
        webSockets.closeAll();
        await Promise.all([stopped, udp?.close()]);
      })();
      return closing;
    },
  };
}
