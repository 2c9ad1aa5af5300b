// Random bytes from a pool refilled in bulk by the platform's CSPRNG (Web Crypto, in Node and
// browsers alike). libsodium.js asks the JavaScript side for randomness four bytes at a time, and
// those calls were a quarter of the relay's busy time during a handshake flood.

import type { Sodium } from './sodium.ts';

const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let used = POOL_SIZE;

/** Fills `out` with fresh random bytes and returns it. */
export function fillRandom(out: Uint8Array): Uint8Array {
  let at = 0;
  while (at < out.length) {
    if (used === POOL_SIZE) {
      globalThis.crypto.getRandomValues(pool);
      used = 0;
    }
    const n = Math.min(out.length - at, POOL_SIZE - used);
    out.set(pool.subarray(used, used + n), at);
    pool.fill(0, used, used + n); // a byte handed out is not kept
    used += n;
    at += n;
  }
  return out;
}

export function randomBytes(length: number): Uint8Array {
  return fillRandom(new Uint8Array(length));
}

/** An X25519 keypair, as crypto_box_keypair makes it but with the pool's randomness. */
export function boxKeyPair(sodium: Sodium): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const privateKey = randomBytes(32);
  return { publicKey: sodium.crypto_scalarmult_base(privateKey), privateKey };
}
