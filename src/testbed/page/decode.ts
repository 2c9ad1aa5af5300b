// Packets as the log shows them: the id's name, the conn id, sizes and the first bytes in hex.
// Client → relay plaintexts are read from their id byte; relay → client ones with the client's
// own decoder, so the log shows exactly what the client accepted.
import { decodeServerPacket, NUM_RESERVED_PORTS, PUBLIC_KEY_SIZE } from '../../client/packets.ts';

const NAMES = [
  'ROUTING_REQUEST',
  'ROUTING_RESPONSE',
  'CONNECT_NOTIFICATION',
  'DISCONNECT_NOTIFICATION',
  'PING',
  'PONG',
  'OOB_SEND',
  'OOB_RECV',
  'ONION_REQUEST',
  'ONION_RESPONSE',
  'FORWARD_REQUEST',
  'FORWARDING',
];

/** Bytes a plaintext costs on the wire: the 2-byte length and the 16-byte MAC. */
export const FRAME_OVERHEAD = 2 + 16;

export interface DecodedPacket {
  name: string;
  /** The link's conn id (16..255; 0 for a refused routing response), when the packet names one. */
  connId?: number;
  /** The peer's public key, when the packet carries one. */
  publicKey?: Uint8Array;
  /** Bytes after the header fields (data, OOB, onion). */
  payload?: Uint8Array;
  plaintextSize: number;
  wireSize: number;
  hex: string;
  error?: string;
}

export function packetName(id: number): string {
  return id >= NUM_RESERVED_PORTS ? 'DATA' : (NAMES[id] ?? `RESERVED_${id}`);
}

export function hex(bytes: Uint8Array, max = bytes.length): string {
  let out = '';
  const n = Math.min(max, bytes.length);
  for (let i = 0; i < n; i++) out += (i ? ' ' : '') + bytes[i]!.toString(16).padStart(2, '0');
  return bytes.length > n ? `${out} …` : out;
}

export function keyHex(key: Uint8Array): string {
  let out = '';
  for (const byte of key) out += byte.toString(16).padStart(2, '0');
  return out.toUpperCase();
}

function base(plaintext: Uint8Array): DecodedPacket {
  return {
    name: plaintext.length ? packetName(plaintext[0]!) : 'EMPTY',
    plaintextSize: plaintext.length,
    wireSize: plaintext.length + FRAME_OVERHEAD,
    hex: hex(plaintext, 12),
  };
}

/** A plaintext a client sent. */
export function decodeSent(plaintext: Uint8Array): DecodedPacket {
  const out = base(plaintext);
  const id = plaintext[0];
  if (id === undefined) return out;
  if (id >= NUM_RESERVED_PORTS) {
    out.connId = id;
    out.payload = plaintext.subarray(1);
  } else if (id === 0 || id === 6) {
    out.publicKey = plaintext.subarray(1, 1 + PUBLIC_KEY_SIZE);
    if (id === 6) out.payload = plaintext.subarray(1 + PUBLIC_KEY_SIZE);
  } else if (id === 3) {
    out.connId = plaintext[1];
  }
  return out;
}

/** A plaintext a client received. */
export function decodeReceived(plaintext: Uint8Array): DecodedPacket {
  const out = base(plaintext);
  try {
    const packet = decodeServerPacket(plaintext);
    if ('connId' in packet) out.connId = packet.connId;
    if ('publicKey' in packet) out.publicKey = packet.publicKey;
    if ('data' in packet) out.payload = packet.data;
  } catch (error) {
    out.error = (error as Error).message;
  }
  return out;
}
