// The relay's UDP side, assembled: the socket, the onion first hop and forwarding, wired to the
// relay's ONION/FORWARD actions and its delivery of replies.

import type { Clock } from '../clock.ts';
import type { Sodium } from '../crypto/sodium.ts';
import type { Relay } from '../relay/relay.ts';
import { DestinationFilter } from './destinations.ts';
import { UdpEndpoint } from './endpoint.ts';
import { Forwarder } from './forwarding.ts';
import { OnionHop } from './onion.ts';
import { UdpStats } from './return-path.ts';

export interface UdpSide {
  readonly port: number;
  readonly stats: UdpStats;
  close(): Promise<void>;
}

export async function startUdpSide(
  sodium: Sodium,
  relay: Relay,
  port: number,
  host: string | undefined,
  clock: Clock,
  allowThisHost = false,
): Promise<UdpSide> {
  const stats = new UdpStats();
  const endpoint = await UdpEndpoint.bind(port, host, stats, new DestinationFilter(allowThisHost, clock));
  const onion = new OnionHop(sodium, endpoint, relay, clock, stats);
  const forwarder = new Forwarder(sodium, endpoint, relay, clock, stats);
  relay.useUdp({
    onion: (slot, id, plaintext) => onion.request(slot, id, plaintext),
    forward: (slot, id, plaintext) => forwarder.request(slot, id, plaintext),
  });
  return { port: endpoint.port, stats, close: () => endpoint.close() };
}
