// Forwarding for TCP clients (PROTOCOL.md §9), used by group-chat announcements.
//
//   TCP  [10][packed ip_port 7 | 19][data ≤ 1792]                       from a confirmed client
//   UDP  [0x91][45][auth 32][0x02][slot u32be][identifier u64be][data]  to that address
//   UDP  [0x92][sblen][sendback sblen][payload]                         back from it
//   TCP  [11][payload]                                                  to the same connection
//
// The sendback is authenticated with a key made at start and a one-hour time window, so a reply
// is accepted for one to two hours and nobody else can forge one.

import type { Clock } from '../clock.ts';
import type { Sodium } from '../crypto/sodium.ts';
import type { UdpEndpoint } from './endpoint.ts';
import { readPackedIpPort } from './ipport.ts';
import type { ConnectionDelivery, UdpStats } from './return-path.ts';

export const FORWARDING = 0x91;
export const FORWARD_REPLY = 0x92;
const FORWARDING_TCP = 11;
const AUTH_SIZE = 32;
const SENDBACK_DATA_SIZE = 13; // [0x02][slot u32be][identifier u64be]
const SENDBACK_SIZE = AUTH_SIZE + SENDBACK_DATA_SIZE; // 45
const SENDBACK_TCP_CLIENT = 0x02;
const MAX_SENDBACK_SIZE = 254;
const MAX_REPLY_PAYLOAD = 2048 - 2 - SENDBACK_SIZE; // 2001
const WINDOW_MS = 3600 * 1000;

export class Forwarder {
  private readonly key: Uint8Array;

  constructor(
    private readonly sodium: Sodium,
    private readonly udp: UdpEndpoint,
    private readonly connections: ConnectionDelivery,
    private readonly clock: Clock,
    private readonly stats: UdpStats,
  ) {
    this.key = sodium.crypto_auth_keygen();
    udp.on(FORWARD_REPLY, (packet) => this.reply(packet));
  }

  private window(): bigint {
    return BigInt(Math.floor(this.clock.now() / WINDOW_MS));
  }

  private authenticate(window: bigint, sendbackData: Uint8Array): Uint8Array {
    const message = new Uint8Array(8 + SENDBACK_DATA_SIZE);
    new DataView(message.buffer).setBigUint64(0, window, true);
    message.set(sendbackData, 8);
    return this.sodium.crypto_auth(message, this.key);
  }

  /** A FORWARD_REQUEST plaintext the core accepted (family and sizes already checked). */
  request(slot: number, identifier: bigint, plain: Uint8Array): void {
    const target = readPackedIpPort(plain, 1);
    if (!target) {
      this.stats.forwardUnroutable++;
      return;
    }
    if (this.udp.refuses(target.destination)) {
      this.stats.refusedDestinations++;
      return;
    }
    const data = plain.subarray(1 + target.size);
    const sendbackData = new Uint8Array(SENDBACK_DATA_SIZE);
    sendbackData[0] = SENDBACK_TCP_CLIENT;
    const view = new DataView(sendbackData.buffer);
    view.setUint32(1, slot);
    view.setBigUint64(5, identifier);
    const packet = new Uint8Array(2 + SENDBACK_SIZE + data.length);
    packet[0] = FORWARDING;
    packet[1] = SENDBACK_SIZE;
    packet.set(this.authenticate(this.window(), sendbackData), 2);
    packet.set(sendbackData, 2 + AUTH_SIZE);
    packet.set(data, 2 + SENDBACK_SIZE);
    if (this.udp.send(packet, target.destination)) this.stats.forwardSent++;
    else this.stats.forwardUnroutable++;
  }

  private reply(packet: Buffer): void {
    const sendbackSize = packet[1] ?? 0;
    if (
      packet.length < 2 + AUTH_SIZE ||
      sendbackSize > MAX_SENDBACK_SIZE ||
      sendbackSize <= AUTH_SIZE ||
      packet.length < 2 + sendbackSize ||
      // Every sendback this relay makes is 45 bytes naming a TCP client; nothing else is ours.
      sendbackSize !== SENDBACK_SIZE ||
      packet.length - 2 - SENDBACK_SIZE > MAX_REPLY_PAYLOAD
    ) {
      this.stats.dropped++;
      return;
    }
    const auth = packet.subarray(2, 2 + AUTH_SIZE);
    const sendbackData = packet.subarray(2 + AUTH_SIZE, 2 + SENDBACK_SIZE);
    const now = this.window();
    const authentic = [now, now - 1n].some((w) => this.sodium.memcmp(this.authenticate(w, sendbackData), auth));
    if (!authentic || sendbackData[0] !== SENDBACK_TCP_CLIENT) {
      this.stats.dropped++;
      return;
    }
    const view = new DataView(sendbackData.buffer, sendbackData.byteOffset, SENDBACK_DATA_SIZE);
    const plaintext = new Uint8Array(1 + packet.length - 2 - SENDBACK_SIZE);
    plaintext[0] = FORWARDING_TCP;
    plaintext.set(packet.subarray(2 + SENDBACK_SIZE), 1);
    this.stats.forwardReplies++;
    this.connections.deliver(view.getUint32(1), view.getBigUint64(5), plaintext);
  }
}
