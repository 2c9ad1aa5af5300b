// The server side of the handshake (§1).
//
//   hello  (128) = C_pk[32] ‖ N1[24] ‖ box(K_lt, N1, Ce_pk[32] ‖ Nc[24])
//   reply   (96) = N2[24]   ‖ box(K_lt, N2, Se_pk[32] ‖ Ns[24])
//   session key K = beforenm(Ce_pk, Se_sk); receive nonce Nc, send nonce Ns.

import type { AgreementSecret, KeyAgreement } from '../crypto/key-agreement.ts';
import { randomBytes } from '../crypto/random.ts';
import type { Sodium } from '../crypto/sodium.ts';

export const HELLO_SIZE = 128;
export const REPLY_SIZE = 96;

export interface HandshakeResult {
  clientPublicKey: Uint8Array;
  sessionKey: Uint8Array;
  recvNonce: Uint8Array;
  sendNonce: Uint8Array;
  reply: Uint8Array;
}

export class Handshaker {
  private readonly serverSecret: AgreementSecret;

  constructor(
    private readonly sodium: Sodium,
    private readonly agreement: KeyAgreement,
    serverSecretKey: Uint8Array,
  ) {
    this.serverSecret = agreement.importSecret(serverSecretKey);
  }

  /**
   * Verifies a hello against the relay's secret key. Returns null for anything that is not a
   * valid hello: a wrong server key, garbage, or a low-order client key (refused, where
   * c-toxcore goes on with stale bytes).
   */
  answer(hello: Uint8Array): HandshakeResult | null {
    if (hello.length !== HELLO_SIZE) return null;
    const clientPublicKey = hello.slice(0, 32);
    const longTermKey = this.agreement.sharedKey(clientPublicKey, this.serverSecret);
    if (!longTermKey) return null;
    try {
      return this.answerWithKey(hello, clientPublicKey, longTermKey);
    } finally {
      this.sodium.memzero(longTermKey);
    }
  }

  private answerWithKey(hello: Uint8Array, clientPublicKey: Uint8Array, longTermKey: Uint8Array): HandshakeResult | null {
    const sodium = this.sodium;
    let inner: Uint8Array;
    try {
      inner = sodium.crypto_box_open_easy_afternm(hello.subarray(56, 128), hello.subarray(32, 56), longTermKey);
    } catch {
      return null;
    }
    if (inner.length !== 56) return null;
    const recvNonce = inner.slice(32, 56);

    const ephemeral = this.agreement.ephemeral();
    const sessionKey = this.agreement.sharedKey(inner.subarray(0, 32), ephemeral.secret);
    this.agreement.forget(ephemeral.secret);
    if (!sessionKey) return null; // a low-order ephemeral key
    const sendNonce = randomBytes(24);
    const n2 = randomBytes(24);
    const body = new Uint8Array(56);
    body.set(ephemeral.publicKey, 0);
    body.set(sendNonce, 32);
    const boxed = sodium.crypto_box_easy_afternm(body, n2, longTermKey);
    const reply = new Uint8Array(REPLY_SIZE);
    reply.set(n2, 0);
    reply.set(boxed, 24);
    return { clientPublicKey, sessionKey, recvNonce, sendNonce, reply };
  }
}
