// Counters of what the relay did, for logs, tests and (later) metrics.

import { closeReasonName } from '../core/exports.ts';

const DATA_KIND = 16;
const PACKET_KINDS = DATA_KIND + 1;

/** Names of the packet kinds counted by RelayStats (index = packet id, 16 = data). */
export const PACKET_KIND_NAMES = [
  'routing_request', 'routing_response', 'connect_notification', 'disconnect_notification', 'ping', 'pong',
  'oob_send', 'oob_recv', 'onion_request', 'onion_response', 'forward_request', 'forwarding',
  'reserved_12', 'reserved_13', 'reserved_14', 'reserved_15', 'data',
] as const;

export class RelayStats {
  accepted = 0;
  refusedFull = 0;
  refusedPerIp = 0;
  handshakes = 0;
  handshakesFailed = 0;
  framesIn = 0;
  framesOut = 0;
  /** Non-priority packets dropped because their destination was backed up (§6). */
  dropped = 0;
  /** Connections closed because they stopped reading. */
  overflowed = 0;
  readonly closes: Record<string, number> = {};
  // Packets and wire bytes by packet id (0..15; 16 stands for every data id), in and out.
  readonly packetsIn = new Float64Array(PACKET_KINDS);
  readonly bytesIn = new Float64Array(PACKET_KINDS);
  readonly packetsOut = new Float64Array(PACKET_KINDS);
  readonly bytesOut = new Float64Array(PACKET_KINDS);

  countIn(id: number, wireBytes: number): void {
    const kind = id < DATA_KIND ? id : DATA_KIND;
    this.packetsIn[kind]!++;
    this.bytesIn[kind]! += wireBytes;
  }

  countOut(id: number, wireBytes: number): void {
    const kind = id < DATA_KIND ? id : DATA_KIND;
    this.packetsOut[kind]!++;
    this.bytesOut[kind]! += wireBytes;
  }

  countClose(reason: number): void {
    const name = closeReasonName[reason] ?? String(reason);
    this.closes[name] = (this.closes[name] ?? 0) + 1;
  }
}
