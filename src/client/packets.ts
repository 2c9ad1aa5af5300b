// Packet plaintexts (PROTOCOL §4): `[id][fields…]`, the id byte first. Encoders build what a client
// sends; decodeServerPacket() reads what a relay sends and rejects what a relay never would.
// Encoders check only what the byte layout needs (field sizes, byte ranges), not the relay's
// policy limits (OOB size, onion lengths): a test client must be able to break those rules.

import { ClientError } from './errors.ts';

export const PacketId = {
  ROUTING_REQUEST: 0,
  ROUTING_RESPONSE: 1,
  CONNECT_NOTIFICATION: 2,
  DISCONNECT_NOTIFICATION: 3,
  PING: 4,
  PONG: 5,
  OOB_SEND: 6,
  OOB_RECV: 7,
  ONION_REQUEST: 8,
  ONION_RESPONSE: 9,
  FORWARD_REQUEST: 10,
  FORWARDING: 11,
} as const;

export const PUBLIC_KEY_SIZE = 32;
export const PING_ID_SIZE = 8;
/** Ids below this are control packets; data packets name a link by `conn_id = slot + 16`. */
export const NUM_RESERVED_PORTS = 16;
export const NUM_CLIENT_CONNECTIONS = 240;
/** MAX_PACKET_SIZE minus the MAC: the largest plaintext a frame can carry. */
export const MAX_PLAINTEXT_LENGTH = 2032;
export const MAX_OOB_DATA_LENGTH = 1024;

/** The wire name of link slot `slot` (0..239). */
export function slotToConnId(slot: number): number {
  return slot + NUM_RESERVED_PORTS;
}

/** The link slot a wire conn_id (16..255) names. */
export function connIdToSlot(connId: number): number {
  return connId - NUM_RESERVED_PORTS;
}

function packet(id: number, ...fields: Uint8Array[]): Uint8Array {
  let length = 1;
  for (const field of fields) length += field.length;
  const out = new Uint8Array(length);
  out[0] = id;
  let at = 1;
  for (const field of fields) {
    out.set(field, at);
    at += field.length;
  }
  return out;
}

function checkSize(what: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) throw new RangeError(`${what} must be ${size} bytes, got ${bytes.length}`);
}

function checkByte(what: string, value: number, min = 0): void {
  if (!Number.isInteger(value) || value < min || value > 255) {
    throw new RangeError(`${what} must be an integer in ${min}..255, got ${value}`);
  }
}

export function encodeRoutingRequest(publicKey: Uint8Array): Uint8Array {
  checkSize('public key', publicKey, PUBLIC_KEY_SIZE);
  return packet(PacketId.ROUTING_REQUEST, publicKey);
}

/** Any byte is allowed: a conn_id below 16 or of an unused slot is a kill rule worth testing. */
export function encodeDisconnectNotification(connId: number): Uint8Array {
  checkByte('conn_id', connId);
  return packet(PacketId.DISCONNECT_NOTIFICATION, Uint8Array.of(connId));
}

export function encodePing(pingId: Uint8Array): Uint8Array {
  checkSize('ping id', pingId, PING_ID_SIZE);
  return packet(PacketId.PING, pingId);
}

export function encodePong(pingId: Uint8Array): Uint8Array {
  checkSize('ping id', pingId, PING_ID_SIZE);
  return packet(PacketId.PONG, pingId);
}

export function encodeOobSend(publicKey: Uint8Array, data: Uint8Array): Uint8Array {
  checkSize('public key', publicKey, PUBLIC_KEY_SIZE);
  return packet(PacketId.OOB_SEND, publicKey, data);
}

/** A data packet: its first byte is the conn_id, which must be ≥ 16 to be data at all. */
/** Throws unless `connId` can carry data: 16..255 (ids below 16 are packet types). */
export function checkDataConnId(connId: number): void {
  checkByte('conn_id', connId, NUM_RESERVED_PORTS);
}

export function encodeData(connId: number, payload: Uint8Array): Uint8Array {
  checkDataConnId(connId);
  return packet(connId, payload);
}

export function encodeOnionRequest(body: Uint8Array): Uint8Array {
  return packet(PacketId.ONION_REQUEST, body);
}

export function encodeForwardRequest(body: Uint8Array): Uint8Array {
  return packet(PacketId.FORWARD_REQUEST, body);
}

/** A packet a relay sends to a client. Byte fields are views into the decrypted plaintext. */
export type ServerPacket =
  | { type: 'routingResponse'; connId: number; publicKey: Uint8Array } // connId 0 = refused
  | { type: 'connectNotification'; connId: number }
  | { type: 'disconnectNotification'; connId: number }
  | { type: 'ping'; id: Uint8Array }
  | { type: 'pong'; id: Uint8Array }
  | { type: 'oob'; publicKey: Uint8Array; data: Uint8Array }
  | { type: 'onionResponse'; data: Uint8Array }
  | { type: 'forwarding'; data: Uint8Array }
  | { type: 'data'; connId: number; data: Uint8Array };

function malformed(message: string): ClientError {
  return new ClientError('MALFORMED_PACKET', message);
}

function expectLength(name: string, plaintext: Uint8Array, length: number): void {
  if (plaintext.length !== length) throw malformed(`${name} of length ${plaintext.length}, expected ${length}`);
}

function expectConnId(name: string, connId: number): void {
  if (connId < NUM_RESERVED_PORTS) throw malformed(`${name} names conn_id ${connId}, below ${NUM_RESERVED_PORTS}`);
}

/** Reads a relay's plaintext; throws MALFORMED_PACKET for anything a relay must not send. */
export function decodeServerPacket(plaintext: Uint8Array): ServerPacket {
  if (plaintext.length === 0) throw malformed('empty packet');
  const id = plaintext[0]!;
  switch (id) {
    case PacketId.ROUTING_RESPONSE: {
      expectLength('ROUTING_RESPONSE', plaintext, 2 + PUBLIC_KEY_SIZE);
      const connId = plaintext[1]!;
      if (connId !== 0) expectConnId('ROUTING_RESPONSE', connId);
      return { type: 'routingResponse', connId, publicKey: plaintext.subarray(2) };
    }
    case PacketId.CONNECT_NOTIFICATION:
    case PacketId.DISCONNECT_NOTIFICATION: {
      const name = id === PacketId.CONNECT_NOTIFICATION ? 'CONNECT_NOTIFICATION' : 'DISCONNECT_NOTIFICATION';
      expectLength(name, plaintext, 2);
      const connId = plaintext[1]!;
      expectConnId(name, connId);
      return { type: id === PacketId.CONNECT_NOTIFICATION ? 'connectNotification' : 'disconnectNotification', connId };
    }
    case PacketId.PING:
    case PacketId.PONG:
      expectLength(id === PacketId.PING ? 'PING' : 'PONG', plaintext, 1 + PING_ID_SIZE);
      return { type: id === PacketId.PING ? 'ping' : 'pong', id: plaintext.subarray(1) };
    case PacketId.OOB_RECV:
      if (plaintext.length <= 1 + PUBLIC_KEY_SIZE) throw malformed(`OOB_RECV of length ${plaintext.length} has no data`);
      return {
        type: 'oob',
        publicKey: plaintext.subarray(1, 1 + PUBLIC_KEY_SIZE),
        data: plaintext.subarray(1 + PUBLIC_KEY_SIZE),
      };
    case PacketId.ONION_RESPONSE:
      return { type: 'onionResponse', data: plaintext.subarray(1) };
    case PacketId.FORWARDING:
      return { type: 'forwarding', data: plaintext.subarray(1) };
    default:
      // Relayed data may be empty: a client may send a bare `[conn_id]` and the relay forwards it.
      if (id >= NUM_RESERVED_PORTS) return { type: 'data', connId: id, data: plaintext.subarray(1) };
      throw malformed(`packet id ${id} is never sent by a relay`);
  }
}
