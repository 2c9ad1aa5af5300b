// libsodium, initialised once at import (a top-level await, valid in Node ESM and browsers), so
// that the client can use it synchronously: key generation in a constructor, sealing per frame.

import sodium from 'libsodium-wrappers-sumo';

await sodium.ready;

export { sodium };

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh X25519 keypair (toxcore's crypto_new_keypair). */
export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  return { publicKey, secretKey: privateKey };
}
