// Where the relay sends no client's onion or forward request: its own host (loopback), nowhere
// (unspecified addresses) and many hosts at once (multicast, broadcast, the reserved 240/4).
// c-toxcore sends to any address a client names, so a client could reach UDP services that
// listen only on the relay's loopback (memcached, statsd, a DNS resolver) with bytes of its
// choosing after the first. Loopback stays allowed when the relay's own UDP socket is bound to
// loopback: it reaches nothing else then, and a Tox network on one machine needs it.

import type { UdpDestination } from './ipport.ts';

export function refusedDestination(to: UdpDestination, loopbackAllowed: boolean): boolean {
  if (!to.ipv6) return refusedIpv4(to.address.split('.').map(Number), loopbackAllowed);
  // readOnionIpPort and readPackedIpPort write all eight groups, in lower-case hex.
  const groups = to.address.split(':').map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return true;
  const zeroUpTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroUpTo(5) && groups[5] === 0xffff) {
    // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d through a dual-stack socket.
    return refusedIpv4([groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff], loopbackAllowed);
  }
  if (zeroUpTo(7) && groups[7] === 0) return true; // ::
  if (zeroUpTo(7) && groups[7] === 1) return !loopbackAllowed; // ::1
  return groups[0]! >= 0xff00; // multicast
}

function refusedIpv4(octets: number[], loopbackAllowed: boolean): boolean {
  const first = octets[0]!;
  if (first === 0) return true; // "this network", 0.0.0.0 among it
  if (first === 127) return !loopbackAllowed;
  return first >= 224; // multicast 224/4, reserved 240/4 and the broadcast address
}

/** Whether a bound address is a loopback one (then only loopback can be reached from it). */
export function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}
