// How a UDP reply finds its way back to a TCP connection: the connection's slot and identifier,
// which the core checks so that a reused slot never receives a stale reply.

export interface ConnectionDelivery {
  /** Sends `plaintext` to the connection if `slot` still holds the one with `identifier`. */
  deliver(slot: number, identifier: bigint, plaintext: Uint8Array): void;
}

/** Counters of the UDP side: what went out, what came back, what was dropped and why. */
export class UdpStats {
  onionSent = 0;
  onionUnroutable = 0;
  onionReplies = 0;
  forwardSent = 0;
  forwardUnroutable = 0;
  forwardReplies = 0;
  /** Onion and forward requests to an address the relay does not send to (destinations.ts). */
  refusedDestinations = 0;
  dropped = 0;
}
