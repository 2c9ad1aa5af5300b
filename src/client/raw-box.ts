// The client's per-frame crypto on libsodium's own heap: the wrapper functions allocate and copy
// several buffers per call, which made a loaded client (the bench) cost more than the relay.
// One set of scratch buffers per thread is enough: every call is synchronous.

import { rawSodium, type RawSodium } from '../crypto/sodium.ts';
import { MAX_FRAME_LENGTH } from './frames.ts';
import { sodium } from './sodium.ts';

const MAC_SIZE = 16;
/** Packet ids below this are control packets; from it on, data on a link (PROTOCOL §4). */
const FIRST_DATA_ID = 16;
const HEADER = 2;

interface Scratch {
  raw: RawSodium;
  key: number;
  nonce: number;
  clear: number;
  sealed: number;
}

let scratch: Scratch | undefined;

function buffers(): Scratch {
  if (!scratch) {
    const raw = rawSodium(sodium);
    scratch = {
      raw,
      key: raw._malloc(32),
      nonce: raw._malloc(24),
      clear: raw._malloc(MAX_FRAME_LENGTH),
      sealed: raw._malloc(HEADER + MAX_FRAME_LENGTH),
    };
  }
  return scratch;
}

/** `[len u16be][MAC ‖ ciphertext]` of `plaintext` (at most 2032 bytes; the caller checks). */
export function sealFrame(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const s = buffers();
  s.raw.HEAPU8.set(plaintext, s.clear);
  return sealClear(s, key, nonce, plaintext.length);
}

/**
 * sealFrame of the plaintext `[id] ‖ body`, assembled on the heap instead of in a new array: the
 * path of every data packet (at most 2031 body bytes; the caller checks).
 */
export function sealPacketFrame(key: Uint8Array, nonce: Uint8Array, id: number, body: Uint8Array, inPlace = false): Uint8Array {
  const s = buffers();
  const heap = s.raw.HEAPU8;
  heap.set(body, s.clear + 1); // before the id: `body` may itself be a view of s.clear
  heap[s.clear] = id;
  return sealClear(s, key, nonce, 1 + body.length, inPlace);
}

/**
 * Seals the plaintext at s.clear. The frame is a new array, or with `inPlace` a view of
 * libsodium's heap that the next seal overwrites (for a transport that copies writes).
 */
function sealClear(s: Scratch, key: Uint8Array, nonce: Uint8Array, length: number, inPlace = false): Uint8Array {
  const heap = s.raw.HEAPU8;
  heap.set(key, s.key);
  heap.set(nonce, s.nonce);
  const boxLength = length + MAC_SIZE;
  s.raw._crypto_box_easy_afternm(s.sealed + HEADER, s.clear, length, 0, s.nonce, s.key);
  if (inPlace) {
    heap[s.sealed] = boxLength >> 8;
    heap[s.sealed + 1] = boxLength & 0xff;
    return heap.subarray(s.sealed, s.sealed + HEADER + boxLength);
  }
  const frame = new Uint8Array(HEADER + boxLength);
  frame[0] = boxLength >> 8;
  frame[1] = boxLength & 0xff;
  frame.set(heap.subarray(s.sealed + HEADER, s.sealed + HEADER + boxLength), HEADER);
  return frame;
}

/**
 * The plaintext of a frame body (MAC ‖ ciphertext, 17..2048 bytes), or null if it does not open.
 * With `dataInto` a data packet (id 16..255) is copied into that caller-owned buffer and returned
 * as a view of it (no allocation); anything else is always a fresh array.
 */
export function openBody(key: Uint8Array, nonce: Uint8Array, body: Uint8Array, dataInto?: Uint8Array): Uint8Array | null {
  if (body.length <= MAC_SIZE || body.length > MAX_FRAME_LENGTH) return null;
  const s = buffers();
  const heap = s.raw.HEAPU8;
  heap.set(key, s.key);
  heap.set(nonce, s.nonce);
  heap.set(body, s.sealed);
  if (s.raw._crypto_box_open_easy_afternm(s.clear, s.sealed, body.length, 0, s.nonce, s.key) !== 0) return null;
  const length = body.length - MAC_SIZE;
  if (dataInto && heap[s.clear]! >= FIRST_DATA_ID) {
    // Off libsodium's heap, so that a seal (or a grown heap) cannot change it under a listener.
    dataInto.set(heap.subarray(s.clear, s.clear + length));
    return dataInto.subarray(0, length);
  }
  return heap.slice(s.clear, s.clear + length);
}
