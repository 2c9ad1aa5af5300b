// libsodium for the client. Its WebAssembly initialises asynchronously, and the client core cannot
// await at module top level (tests load it through a CommonJS transform, which has no top-level
// await), so readiness is explicit: ready() once, after which everything here is synchronous.

import sodium from 'libsodium-wrappers-sumo';
import { boxKeyPair } from '../crypto/random.ts';

export { sodium };

let initialised = false;
const initialising = sodium.ready.then(() => {
  initialised = true;
});

/** Resolves once libsodium can be used; RelayClient.create() and handshake() await it. */
export function ready(): Promise<void> {
  return initialising;
}

/** Throws unless ready() has resolved: used where the client must call libsodium synchronously. */
export function assertSodiumReady(): void {
  if (!initialised) throw new Error('libsodium is not initialised yet: await ready() (or RelayClient.create()) first');
}

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh X25519 keypair (toxcore's crypto_new_keypair). Needs ready(). */
export function generateKeyPair(): KeyPair {
  assertSodiumReady();
  const { publicKey, privateKey } = boxKeyPair(sodium);
  return { publicKey, secretKey: privateKey };
}
