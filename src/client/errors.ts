// Errors the client raises itself carry a stable code, so tests can tell "the relay closed the
// connection" (a close without error) from "the relay sent something this client rejects".

export type ClientErrorCode =
  | 'HANDSHAKE_FAILED' // the reply did not decrypt, or a key was unusable (low-order)
  | 'HANDSHAKE_TIMEOUT'
  | 'FRAME_TOO_LONG' // a length prefix above 2048
  | 'DECRYPT_FAILED' // a frame that does not open with the session key and receive nonce
  | 'MALFORMED_PACKET' // a decrypted packet a relay must not send (unknown id, wrong length)
  | 'PING_TIMEOUT'
  | 'WAIT_TIMEOUT'
  | 'CLOSED'; // the operation needed an open connection

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientError';
  }
}
