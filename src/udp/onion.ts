// The relay as the first onion hop of its TCP clients (PROTOCOL.md §8).
//
//   TCP  [8][nonce 24][hop-2 ip_port 19][rest …]             from a confirmed client
//   UDP  [0x81][nonce 24][rest …][Nr 24][secretbox(K, Nr, source 19) 35]      to hop 2
//   UDP  [0x8e][Nr 24][box 35][payload: 0x84 | 0x86 | 0x88 …]               back from hop 2
//   TCP  [9][payload]                                         to the same connection, if alive
//
// The sealed source names the connection (slot, identifier); only this relay can open it, with
// a key it replaces every two hours.

import type { Clock } from '../clock.ts';
import { randomBytes } from '../crypto/random.ts';
import type { Sodium } from '../crypto/sodium.ts';
import type { UdpEndpoint } from './endpoint.ts';
import { ONION_IPPORT_SIZE, readOnionIpPort } from './ipport.ts';
import type { ConnectionDelivery, UdpStats } from './return-path.ts';

export const ONION_SEND_1 = 0x81;
export const ONION_RECV_1 = 0x8e;
const ONION_RESPONSE = 9;
const NONCE_SIZE = 24;
const RETURN_SIZE = NONCE_SIZE + ONION_IPPORT_SIZE + 16; // 59
const MAX_ONION_PACKET = 1400;
const ANSWER_IDS = new Set([0x84, 0x86, 0x88]); // old announce, data, new-style announce responses
const TCP_CLIENT_FAMILY = 11;
export const KEY_LIFETIME_MS = 7200 * 1000;

export class OnionHop {
  private key: Uint8Array;
  private keyBorn: number;

  constructor(
    private readonly sodium: Sodium,
    private readonly udp: UdpEndpoint,
    private readonly connections: ConnectionDelivery,
    private readonly clock: Clock,
    private readonly stats: UdpStats,
  ) {
    this.key = sodium.crypto_secretbox_keygen();
    this.keyBorn = clock.now();
    udp.on(ONION_RECV_1, (packet) => this.reply(packet));
  }

  /** Lazily rotated, like c-toxcore: return blobs sealed under the old key stop working. */
  private currentKey(): Uint8Array {
    if (this.clock.now() - this.keyBorn >= KEY_LIFETIME_MS) {
      this.sodium.memzero(this.key);
      this.key = this.sodium.crypto_secretbox_keygen();
      this.keyBorn = this.clock.now();
    }
    return this.key;
  }

  /** An ONION_REQUEST plaintext the core accepted (its length is already checked). */
  request(slot: number, identifier: bigint, plain: Uint8Array): void {
    const destination = readOnionIpPort(plain, 1 + NONCE_SIZE);
    if (!destination) {
      this.stats.onionUnroutable++;
      return;
    }
    if (this.udp.refuses(destination)) {
      this.stats.refusedDestinations++;
      return;
    }
    const source = new Uint8Array(ONION_IPPORT_SIZE);
    const view = new DataView(source.buffer);
    source[0] = TCP_CLIENT_FAMILY;
    view.setUint32(1, slot, true);
    view.setBigUint64(9, identifier, true);
    const returnNonce = randomBytes(NONCE_SIZE);
    const sealed = this.sodium.crypto_secretbox_easy(source, returnNonce, this.currentKey());

    const rest = plain.subarray(1 + NONCE_SIZE + ONION_IPPORT_SIZE);
    const packet = new Uint8Array(1 + NONCE_SIZE + rest.length + RETURN_SIZE);
    packet[0] = ONION_SEND_1;
    packet.set(plain.subarray(1, 1 + NONCE_SIZE), 1);
    packet.set(rest, 1 + NONCE_SIZE);
    packet.set(returnNonce, 1 + NONCE_SIZE + rest.length);
    packet.set(sealed, 1 + NONCE_SIZE + rest.length + NONCE_SIZE);
    if (this.udp.send(packet, destination)) this.stats.onionSent++;
    else this.stats.onionUnroutable++;
  }

  private reply(packet: Buffer): void {
    const headerSize = 1 + RETURN_SIZE; // 60
    if (packet.length <= headerSize || packet.length > MAX_ONION_PACKET || !ANSWER_IDS.has(packet[headerSize]!)) {
      this.stats.dropped++;
      return;
    }
    let source: Uint8Array;
    try {
      source = this.sodium.crypto_secretbox_open_easy(
        packet.subarray(1 + NONCE_SIZE, headerSize),
        packet.subarray(1, 1 + NONCE_SIZE),
        this.currentKey(),
      );
    } catch {
      this.stats.dropped++; // tampered, or sealed under a key that has been replaced
      return;
    }
    if (source.length !== ONION_IPPORT_SIZE || source[0] !== TCP_CLIENT_FAMILY) {
      this.stats.dropped++;
      return;
    }
    const view = new DataView(source.buffer, source.byteOffset, source.length);
    const plaintext = new Uint8Array(1 + packet.length - headerSize);
    plaintext[0] = ONION_RESPONSE;
    plaintext.set(packet.subarray(headerSize), 1);
    this.stats.onionReplies++;
    this.connections.deliver(view.getUint32(1, true), view.getBigUint64(9, true), plaintext);
  }
}
