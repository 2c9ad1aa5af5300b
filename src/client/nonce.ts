// Frame nonces (PROTOCOL §0, §2). toxcore treats the 24-byte nonce as one big-endian integer and
// adds 1 per frame; libsodium's sodium_increment is little-endian and would desynchronise after
// the first frame, so the increment is done here.

export const NONCE_SIZE = 24;

/** Adds 1 to `nonce` in place, big-endian, wrapping to zero after 2^192 − 1. */
export function incrementNonce(nonce: Uint8Array): void {
  for (let i = nonce.length - 1; i >= 0; i--) {
    nonce[i] = (nonce[i]! + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}
