// The handshake (PROTOCOL §1), the only unframed exchange:
//   client → relay, 128 bytes: C_pk ‖ N1 ‖ box(K_lt, N1, Ce_pk ‖ Nc)
//   relay → client,  96 bytes: N2 ‖ box(K_lt, N2, Se_pk ‖ Ns)
// with K_lt = beforenm(S_pk, C_sk). The session key is beforenm(Se_pk, Ce_sk); the client sends
// from nonce Nc and receives from nonce Ns.

import { type AgreementSecret, type KeyAgreement, sodiumKeyAgreement } from '../crypto/key-agreement.ts';
import { randomBytes } from '../crypto/random.ts';
import { ClientError } from './errors.ts';
import { NONCE_SIZE } from './nonce.ts';
import { PUBLIC_KEY_SIZE } from './packets.ts';
import { Session } from './session.ts';
import { type KeyPair, sodium } from './sodium.ts';

export const CLIENT_HANDSHAKE_SIZE = 128;
export const SERVER_HANDSHAKE_SIZE = 96;

/** What the client keeps between sending its hello and reading the relay's reply. */
export interface HandshakeState {
  readonly longTermKey: Uint8Array;
  readonly ephemeralSecret: AgreementSecret;
  readonly agreement: KeyAgreement;
  readonly sendNonce: Uint8Array;
}

/** A hello built ahead of its connection (see RelayClientOptions.hello). */
export interface PreparedHello {
  readonly hello: Uint8Array;
  readonly state: HandshakeState;
}

let defaultAgreement: KeyAgreement | undefined;

/** libsodium's X25519, the client's default (it runs in browsers too). Needs ready(). */
export function clientKeyAgreement(): KeyAgreement {
  defaultAgreement ??= sodiumKeyAgreement(sodium);
  return defaultAgreement;
}

function failed(message: string, cause: unknown): ClientError {
  return new ClientError('HANDSHAKE_FAILED', message, { cause });
}

/** Builds the 128-byte hello. Throws HANDSHAKE_FAILED for a low-order relay key. */
export function createHello(
  keyPair: KeyPair,
  serverPublicKey: Uint8Array,
  agreement: KeyAgreement = clientKeyAgreement(),
): PreparedHello {
  let secret: AgreementSecret;
  try {
    secret = agreement.importSecret(keyPair.secretKey);
  } catch (cause) {
    throw failed('the client secret key is not a 32-byte X25519 key', cause);
  }
  const longTermKey = agreement.sharedKey(serverPublicKey, secret);
  agreement.forget(secret);
  if (!longTermKey) throw failed('no shared key with the relay public key (wrong size or low-order point)', undefined);
  const ephemeral = agreement.ephemeral();
  const sendNonce = randomBytes(NONCE_SIZE);
  const helloNonce = randomBytes(NONCE_SIZE);

  const inner = new Uint8Array(PUBLIC_KEY_SIZE + NONCE_SIZE);
  inner.set(ephemeral.publicKey, 0);
  inner.set(sendNonce, PUBLIC_KEY_SIZE);
  const box = sodium.crypto_box_easy_afternm(inner, helloNonce, longTermKey);

  const hello = new Uint8Array(CLIENT_HANDSHAKE_SIZE);
  hello.set(keyPair.publicKey, 0);
  hello.set(helloNonce, PUBLIC_KEY_SIZE);
  hello.set(box, PUBLIC_KEY_SIZE + NONCE_SIZE);
  return { hello, state: { longTermKey, ephemeralSecret: ephemeral.secret, agreement, sendNonce } };
}

/** Reads the relay's 96-byte reply into a session. Throws HANDSHAKE_FAILED if it does not open. */
export function openReply(state: HandshakeState, reply: Uint8Array): Session {
  if (reply.length !== SERVER_HANDSHAKE_SIZE) {
    throw failed(`handshake reply of ${reply.length} bytes, expected ${SERVER_HANDSHAKE_SIZE}`, undefined);
  }
  let inner: Uint8Array;
  try {
    inner = sodium.crypto_box_open_easy_afternm(reply.subarray(NONCE_SIZE), reply.subarray(0, NONCE_SIZE), state.longTermKey);
  } catch (cause) {
    throw failed('the handshake reply does not decrypt: the relay does not hold the expected key', cause);
  }
  const key = state.agreement.sharedKey(inner.subarray(0, PUBLIC_KEY_SIZE), state.ephemeralSecret);
  state.agreement.forget(state.ephemeralSecret);
  if (!key) throw failed("the relay's ephemeral key is a low-order point", undefined);
  return new Session(key, state.sendNonce, inner.slice(PUBLIC_KEY_SIZE, PUBLIC_KEY_SIZE + NONCE_SIZE));
}
