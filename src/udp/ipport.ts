// The two ways c-toxcore writes an address (PROTOCOL.md §8): the fixed 19-byte onion form
// `[family][16-byte address area][port u16be]`, and the packed-node form used by forwarding,
// `[family][4 or 16 address bytes][port u16be]` (7 or 19 bytes). Only IPv4 (2) and IPv6 (10)
// are destinations; anything else is refused.

export const FAMILY_IPV4 = 2;
export const FAMILY_IPV6 = 10;
export const ONION_IPPORT_SIZE = 19;

export interface UdpDestination {
  ipv6: boolean;
  /** Dotted IPv4 or a full IPv6 address. */
  address: string;
  port: number;
}

function ipv4(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

function ipv6(bytes: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[at + i]! << 8) | bytes[at + i + 1]!).toString(16));
  return groups.join(':');
}

/** The 19-byte onion form at `at`, or null for another family. */
export function readOnionIpPort(bytes: Uint8Array, at: number): UdpDestination | null {
  if (bytes.length < at + ONION_IPPORT_SIZE) return null;
  const family = bytes[at];
  const port = (bytes[at + 17]! << 8) | bytes[at + 18]!;
  if (family === FAMILY_IPV4) return { ipv6: false, address: ipv4(bytes, at + 1), port };
  if (family === FAMILY_IPV6) return { ipv6: true, address: ipv6(bytes, at + 1), port };
  return null;
}

/** The packed form at `at`: the destination and the bytes it took, or null. */
export function readPackedIpPort(bytes: Uint8Array, at: number): { destination: UdpDestination; size: number } | null {
  const family = bytes[at];
  const addressLength = family === FAMILY_IPV4 ? 4 : family === FAMILY_IPV6 ? 16 : 0;
  if (addressLength === 0 || bytes.length < at + 1 + addressLength + 2) return null;
  const portAt = at + 1 + addressLength;
  const port = (bytes[portAt]! << 8) | bytes[portAt + 1]!;
  const address = family === FAMILY_IPV4 ? ipv4(bytes, at + 1) : ipv6(bytes, at + 1);
  return { destination: { ipv6: family === FAMILY_IPV6, address, port }, size: 1 + addressLength + 2 };
}
