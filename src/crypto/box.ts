// Per-frame encryption for the relay path (§0, §2), on libsodium's own heap: every
// connection's session key lives in one slab allocated at start, and frames are sealed and
// opened in two fixed buffers, so relaying a packet allocates nothing.

import { rawSodium, type RawSodium, type Sodium } from './sodium.ts';

export const MAC_SIZE = 16;
export const NONCE_SIZE = 24;
export const KEY_SIZE = 32;
export const MAX_FRAME_SIZE = 2048;
export const MAX_PLAINTEXT_SIZE = MAX_FRAME_SIZE - MAC_SIZE;
const FRAME_HEADER = 2;

export class FrameBox {
  private readonly raw: RawSodium;
  private readonly keys: number;
  private readonly nonce: number;
  private readonly clear: number; // plaintext in / out
  private readonly sealed: number; // [len u16be][MAC][ciphertext]

  constructor(sodium: Sodium, maxConnections: number) {
    this.raw = rawSodium(sodium);
    this.keys = this.raw._malloc(maxConnections * KEY_SIZE);
    this.nonce = this.raw._malloc(NONCE_SIZE);
    this.clear = this.raw._malloc(MAX_FRAME_SIZE);
    this.sealed = this.raw._malloc(FRAME_HEADER + MAX_FRAME_SIZE);
  }

  setKey(slot: number, key: Uint8Array): void {
    this.raw.HEAPU8.set(key, this.keys + slot * KEY_SIZE);
  }

  clearKey(slot: number): void {
    this.raw.HEAPU8.fill(0, this.keys + slot * KEY_SIZE, this.keys + (slot + 1) * KEY_SIZE);
  }

  /**
   * Decrypts `src[at .. at+len)` with the slot's key and `nonce[noncePtr ..]`, writing the
   * plaintext to `dst[dstAt ..]`. Returns the plaintext length, or -1 if the MAC is wrong.
   */
  open(slot: number, src: Uint8Array, at: number, len: number, noncePtr: number, dst: Uint8Array, dstAt: number): number {
    if (len <= MAC_SIZE || len > MAX_FRAME_SIZE) return -1;
    const heap = this.raw.HEAPU8;
    copyNonce(src, noncePtr, heap, this.nonce);
    heap.set(src.subarray(at, at + len), this.sealed);
    if (this.raw._crypto_box_open_easy_afternm(this.clear, this.sealed, len, 0, this.nonce, this.keys + slot * KEY_SIZE) !== 0) {
      return -1;
    }
    const plainLen = len - MAC_SIZE;
    dst.set(heap.subarray(this.clear, this.clear + plainLen), dstAt);
    return plainLen;
  }

  /**
   * Encrypts `src[at .. at+len)` into a length-prefixed frame and returns a view of it on the
   * sodium heap, valid until the next call.
   */
  seal(slot: number, src: Uint8Array, at: number, len: number, nonceBytes: Uint8Array, noncePtr: number): Uint8Array {
    if (len < 1 || len > MAX_PLAINTEXT_SIZE) throw new RangeError(`plaintext of ${len} bytes cannot be framed`);
    const heap = this.raw.HEAPU8;
    copyNonce(nonceBytes, noncePtr, heap, this.nonce);
    heap.set(src.subarray(at, at + len), this.clear);
    const frameLen = len + MAC_SIZE;
    heap[this.sealed] = frameLen >> 8;
    heap[this.sealed + 1] = frameLen & 0xff;
    this.raw._crypto_box_easy_afternm(this.sealed + FRAME_HEADER, this.clear, len, 0, this.nonce, this.keys + slot * KEY_SIZE);
    return heap.subarray(this.sealed, this.sealed + FRAME_HEADER + frameLen);
  }
}

/** 24 bytes by hand: cheaper per packet than a subarray view to copy from. */
function copyNonce(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let i = 0; i < NONCE_SIZE; i++) dst[to + i] = src[from + i]!;
}
