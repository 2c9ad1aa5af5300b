// Where the relay sends no client's onion or forward request: nowhere (unspecified addresses),
// many hosts at once (multicast, broadcast, the reserved 240/4), and, unless the operator allows
// it for a Tox network on one machine, this machine itself (loopback and its own interface
// addresses). c-toxcore sends to any address a client names, so a client could reach UDP services
// of the relay's host that no one outside should reach (memcached, statsd, a DNS resolver bound to
// loopback or behind a firewall rule for outside interfaces) with bytes of its choosing.
//
// Node's BlockList does the matching, IPv4-mapped IPv6 addresses included.

import { BlockList } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Clock } from '../clock.ts';
import type { UdpDestination } from './ipport.ts';

type Family = 'ipv4' | 'ipv6';

const NOWHERE_OR_MANY: Array<[string, number, Family]> = [
  ['0.0.0.0', 8, 'ipv4'], // "this network", 0.0.0.0 among it
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, and 255.255.255.255
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'], // multicast
];
const LOOPBACK: Array<[string, number, Family]> = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
];
/** Interface addresses change (DHCP, a new IPv6 prefix): they are read again this often. */
export const INTERFACES_REFRESH_MS = 60_000;

export interface InterfaceAddress {
  address: string;
  family: string;
}

export function hostAddresses(): InterfaceAddress[] {
  return Object.values(networkInterfaces()).flatMap((list) => list ?? []);
}

export class DestinationFilter {
  private list: BlockList;
  private builtAt: number;
  /** This machine's addresses as last read; kept when a later reading fails. */
  private own: InterfaceAddress[] = [];

  constructor(
    /** Let requests reach this machine (loopback and its own addresses): a Tox network on one machine. */
    private readonly allowThisHost: boolean,
    private readonly clock: Clock,
    private readonly addresses: () => InterfaceAddress[] = hostAddresses,
  ) {
    this.builtAt = clock.now();
    this.list = this.build(); // at start: a failure to read the interfaces shows now, not mid-request
  }

  refuses(to: UdpDestination): boolean {
    const now = this.clock.now();
    if (now - this.builtAt >= INTERFACES_REFRESH_MS) {
      this.builtAt = now;
      this.list = this.build();
    }
    return this.list.check(to.address, to.ipv6 ? 'ipv6' : 'ipv4');
  }

  private build(): BlockList {
    const list = new BlockList();
    for (const [network, prefix, family] of NOWHERE_OR_MANY) list.addSubnet(network, prefix, family);
    if (this.allowThisHost) return list;
    for (const [network, prefix, family] of LOOPBACK) list.addSubnet(network, prefix, family);
    try {
      this.own = this.addresses();
    } catch {
      // Reading the interfaces takes a netlink socket, which a process out of descriptors cannot
      // open: keep the last list (a request must never throw) and try again at the next refresh.
    }
    for (const { address, family } of this.own) {
      // A link-local IPv6 address carries its zone (fe80::1%eth0) in some listings.
      list.addAddress(address.split('%')[0]!, family === 'IPv6' ? 'ipv6' : 'ipv4');
    }
    return list;
  }
}
