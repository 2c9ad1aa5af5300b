// X25519 key agreement as crypto_box_beforenm does it: HSalsa20 over the X25519 shared point.
// The handshake needs three of these per connection; which implementation does them is chosen
// by the platform (libsodium.js everywhere, Node's native X25519 where it exists, see
// key-agreement-node.ts), so that the handshake code does not care.

import { boxKeyPair } from './random.ts';
import type { Sodium } from './sodium.ts';

/** A secret key in whatever form the implementation computes with (bytes, a KeyObject, …). */
export type AgreementSecret = { readonly __agreementSecret: true };

export interface KeyAgreement {
  /** Brings a 32-byte X25519 secret key into the implementation's form (done once per key). */
  importSecret(secretKey: Uint8Array): AgreementSecret;
  /** A fresh keypair whose secret is meant for one sharedKey() call (a session key). */
  ephemeral(): { publicKey: Uint8Array; secret: AgreementSecret };
  /** crypto_box_beforenm(publicKey, secret): 32 bytes, or null for a low-order public key. */
  sharedKey(publicKey: Uint8Array, secret: AgreementSecret): Uint8Array | null;
  /** Wipes a secret that is no longer needed, where its form allows (bytes can be zeroed). */
  forget(secret: AgreementSecret): void;
}

/** libsodium.js's X25519 (WebAssembly): works in every environment. */
export function sodiumKeyAgreement(sodium: Sodium): KeyAgreement {
  const asSecret = (bytes: Uint8Array) => bytes as unknown as AgreementSecret;
  return {
    importSecret: (secretKey) => asSecret(secretKey.slice()),
    ephemeral() {
      const pair = boxKeyPair(sodium);
      return { publicKey: pair.publicKey, secret: asSecret(pair.privateKey) };
    },
    sharedKey(publicKey, secret) {
      try {
        return sodium.crypto_box_beforenm(publicKey, secret as unknown as Uint8Array);
      } catch {
        return null; // wrong size, or a point whose shared secret is all zeros
      }
    },
    forget(secret) {
      (secret as unknown as Uint8Array).fill(0);
    },
  };
}
