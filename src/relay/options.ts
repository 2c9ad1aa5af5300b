import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

/** Everything a relay needs to run; the CLI fills it from flags, tests build it directly. */
export interface RelayOptions {
  /** TCP ports to listen on (each dual-stack when host is a wildcard). Port 0 picks a free one. */
  ports: number[];
  /**
   * WebSocket ports (each dual-stack when host is a wildcard, like the TCP ports); each
   * connection carries the same Tox byte stream as TCP in binary messages. Absent or empty: no
   * WebSocket. Port 0 picks a free one.
   */
  wsPorts?: number[];
  /** Bind address (TCP, WebSocket and UDP); undefined means every address, IPv4 and IPv6. */
  host?: string;
  /**
   * UDP port of the onion hop and forwarding (§8, §9), bound like the TCP ports; undefined
   * turns both off (onion requests are then ignored and forward requests close, as in c-toxcore
   * without those modules). 0 picks a free port.
   */
  udpPort?: number;
  /**
   * Let onion and forward requests reach this machine (loopback and its own addresses), for a
   * Tox network on one machine. Off: refused, so that clients cannot reach its local UDP services.
   */
  udpToThisHost?: boolean;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  /** Connections held at once, in any state (handshake, unconfirmed, confirmed). */
  maxConnections: number;
  /** Connections held at once from one IP address. */
  maxPerIp: number;
  /** A connection that has not confirmed (sent its first valid frame) by then is closed. */
  handshakeTimeoutMs: number;
  /** Interval of the server's pings to confirmed connections (c-toxcore: 30 s). */
  pingIntervalMs: number;
  /** Time a client has to answer a ping (c-toxcore: 10 s). */
  pingTimeoutMs: number;
  /** Bytes waiting to be written to one connection above which relayed packets are dropped. */
  dropAboveBytes: number;
  /** Bytes waiting to be written to one connection above which it is closed (it is not reading). */
  closeAboveBytes: number;
  /**
   * Bytes waiting to be written to all connections together; over it, relayed packets are dropped
   * earlier and clients that stopped reading are closed (output-budget.ts). Without a total, many
   * slow readers could each hold up to closeAboveBytes.
   */
  outputBudgetBytes: number;
  /**
   * After input, keep the event loop polling instead of sleeping for this many microseconds
   * (busy-poll.ts): lower latency for more CPU. 0 or absent: off.
   */
  busyPollUs?: number;
  logger: Logger;
  clock: Clock;
  /** Run the timer sweep on a real interval; tests that drive the clock turn this off. */
  autoTimers: boolean;
}

export const RELAY_DEFAULTS = {
  ports: [33445],
  maxConnections: 10_000,
  maxPerIp: 64,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  dropAboveBytes: 64 * 1024,
  closeAboveBytes: 512 * 1024,
  outputBudgetBytes: 128 * 1024 * 1024,
  autoTimers: true,
  busyPollUs: 0,
} as const;
