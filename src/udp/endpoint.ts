// The relay's UDP socket: one dual-stack socket when no bind address is given (like
// tox-bootstrapd with IPv6 on), else one of the address's family. Datagrams are dispatched by
// their first byte; everything else that arrives is dropped without a reply.

import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { DestinationFilter } from './destinations.ts';
import type { UdpDestination } from './ipport.ts';
import type { UdpStats } from './return-path.ts';

export type DatagramHandler = (packet: Buffer) => void;

export class UdpEndpoint {
  private readonly handlers = new Map<number, DatagramHandler>();
  private constructor(
    private readonly socket: Socket,
    readonly dualStack: boolean,
    stats: UdpStats,
    private readonly destinations: DestinationFilter,
  ) {
    socket.on('message', (packet) => {
      const handler = packet.length > 0 ? this.handlers.get(packet[0]!) : undefined;
      if (handler) handler(packet);
      else stats.dropped++;
    });
    socket.on('error', () => {
      // Send errors (unreachable hosts, ICMP feedback) are not the relay's concern, as in c-toxcore.
    });
  }

  static async bind(port: number, host: string | undefined, stats: UdpStats, destinations: DestinationFilter): Promise<UdpEndpoint> {
    if (host !== undefined && isIPv4(host)) return new UdpEndpoint(await bindSocket('udp4', port, host), false, stats, destinations);
    try {
      return new UdpEndpoint(await bindSocket('udp6', port, host ?? '::'), host === undefined || host === '::', stats, destinations);
    } catch (error) {
      // No IPv6 on this machine: fall back to IPv4, as tox-bootstrapd's enable_ipv4_fallback does.
      if (host !== undefined || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw error;
      return new UdpEndpoint(await bindSocket('udp4', port, '0.0.0.0'), false, stats, destinations);
    }
  }

  on(packetId: number, handler: DatagramHandler): void {
    this.handlers.set(packetId, handler);
  }

  get port(): number {
    return this.socket.address().port;
  }

  private get ipv6(): boolean {
    return this.socket.address().family === 'IPv6';
  }

  /** Whether a client's request to this destination is refused (see destinations.ts). */
  refuses(to: UdpDestination): boolean {
    return this.destinations.refuses(to);
  }

  /** Sends unless the destination cannot be reached from this socket; send errors are ignored. */
  send(packet: Uint8Array, to: UdpDestination): boolean {
    if (to.port === 0) return false;
    let address = to.address;
    if (to.ipv6 && !this.ipv6) return false;
    if (!to.ipv6 && this.ipv6) {
      if (!this.dualStack) return false;
      address = `::ffff:${to.address}`;
    }
    this.socket.send(packet, to.port, address, () => undefined);
    return true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function bindSocket(type: 'udp4' | 'udp6', port: number, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, ipv6Only: false });
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
