import { NONCE_SIZE } from './constants';

/** Adds 1 to a 24-byte big-endian nonce in place, wrapping mod 2^192 (§0; not sodium_increment). */
export function incrementNonce(ptr: usize): void {
  for (let i = NONCE_SIZE - 1; i >= 0; i--) {
    const b = load<u8>(ptr + <usize>i) + 1;
    store<u8>(ptr + <usize>i, b);
    if (b != 0) return;
  }
}
