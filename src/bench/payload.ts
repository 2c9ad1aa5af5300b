// What one bench client sends another inside a relayed data packet `[conn_id][payload]`
// (PROTOCOL §5.2: the relay forwards the payload untouched). Every payload is self-checking:
//
//   offset  size       field
//   0       1          kind: DATA 1, ACK 2, PROBE 3, PING 4, PONG 5
//   1       4          seq, u32be: DATA/PING/PONG its sequence number; ACK the next sequence
//                      number the receiver expects (cumulative); PROBE the sender's next one
//   5       size − 9   fill: a fixed pattern
//   size−4  4          checksum, u32be: CRC-32 (zlib's) over the fill, then over bytes 0..4
//
// The fill is summed first so that a sender sums it once per size and only continues the CRC
// over the 5 header bytes per packet. A receiver compares the fill with the pattern (a native
// memcmp, much cheaper than summing a kilobyte) and continues the pattern's CRC over the header:
// a fill that differs is corruption, and for the pattern's fill this is the CRC over everything,
// so any flipped byte (header, fill or checksum) is caught. zlib's native crc32 is used where
// Node has it (20.15 and later), a table in JavaScript elsewhere.

import * as zlib from 'node:zlib';

export const PayloadKind = { DATA: 1, ACK: 2, PROBE: 3, PING: 4, PONG: 5 } as const;
export type PayloadKindValue = (typeof PayloadKind)[keyof typeof PayloadKind];

const HEADER = 5;
const CHECKSUM = 4;
/** The smallest payload: header and checksum, no fill. */
export const MIN_PAYLOAD_SIZE = HEADER + CHECKSUM;
/** The largest: a data packet's plaintext is at most 2032 bytes, one of which is the conn_id. */
export const MAX_PAYLOAD_SIZE = 2031;
/** Control payloads (ACK, PROBE) carry no fill. */
export const CONTROL_PAYLOAD_SIZE = MIN_PAYLOAD_SIZE;

let table: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, as zlib and gzip) of bytes[from, to) in JavaScript: the fallback of crc32(). */
export function crc32Js(bytes: Uint8Array, crc = 0, from = 0, to = bytes.length): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~crc;
  for (let i = from; i < to; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** Below this many bytes the table beats zlib.crc32's call overhead (the 5-byte header per packet). */
const NATIVE_CRC_FROM = 64;

/** Continues a CRC-32 over bytes[from, to); a short range (every packet's header) makes no view. */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length, crc = 0): number {
  if (nativeCrc32 && to - from >= NATIVE_CRC_FROM) return nativeCrc32(bytes.subarray(from, to), crc);
  return crc32Js(bytes, crc, from, to);
}

/** The fill of a payload of `size` bytes, and its CRC-32: one per size, made on first use. */
const fills = new Map<number, { bytes: Buffer; crc: number }>();

function expectedFill(size: number): { bytes: Buffer; crc: number } {
  let fill = fills.get(size);
  if (!fill) {
    // Sizes are bounded (MIN..MAX_PAYLOAD_SIZE), so at most ~2,000 of these, 2 MB in all.
    const bytes = Buffer.alloc(size - HEADER - CHECKSUM);
    for (let i = 0; i < bytes.length; i++) bytes[i] = ((HEADER + i) * 131 + 7) & 0xff;
    fill = { bytes, crc: crc32(bytes) };
    fills.set(size, fill);
  }
  return fill;
}

/**
 * Builds payloads of one size into a scratch buffer that it reuses: the caller must hand the
 * result to something that copies it (RelayClient.sendData does) before the next build().
 */
export class PayloadWriter {
  readonly size: number;
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private readonly fillCrc: number;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < MIN_PAYLOAD_SIZE || size > MAX_PAYLOAD_SIZE) {
      throw new RangeError(`payload size must be ${MIN_PAYLOAD_SIZE}..${MAX_PAYLOAD_SIZE}, got ${size}`);
    }
    this.size = size;
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
    const fill = expectedFill(size);
    this.buffer.set(fill.bytes, HEADER);
    this.fillCrc = fill.crc;
  }

  build(kind: PayloadKindValue, seq: number): Uint8Array {
    this.buffer[0] = kind;
    this.view.setUint32(1, seq >>> 0);
    this.view.setUint32(this.size - CHECKSUM, crc32(this.buffer, 0, HEADER, this.fillCrc));
    return this.buffer;
  }
}

/** A payload that passed its checksum. */
export interface Payload {
  kind: number;
  seq: number;
  size: number;
}

/** Checks and reads a payload; undefined when it is too short, of an unknown kind, or its checksum fails. */
export function readPayload(bytes: Uint8Array): Payload | undefined {
  const size = bytes.length;
  if (size < MIN_PAYLOAD_SIZE || size > MAX_PAYLOAD_SIZE) return undefined;
  const end = size - CHECKSUM;
  const fill = expectedFill(size);
  if (fill.bytes.compare(bytes, HEADER, end) !== 0) return undefined;
  const expected = crc32(bytes, 0, HEADER, fill.crc);
  const got = ((bytes[end]! << 24) | (bytes[end + 1]! << 16) | (bytes[end + 2]! << 8) | bytes[end + 3]!) >>> 0;
  if (got !== expected) return undefined;
  const kind = bytes[0]!;
  if (kind < PayloadKind.DATA || kind > PayloadKind.PONG) return undefined;
  const seq = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  return { kind, seq, size };
}
