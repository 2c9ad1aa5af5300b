// The encrypted session after the handshake (PROTOCOL §2): one shared key and one nonce per
// direction, each advanced by one (big-endian) per frame that was sealed or opened.

import { ClientError } from './errors.ts';
import { incrementNonce } from './nonce.ts';
import { MAX_PLAINTEXT_LENGTH } from './packets.ts';
import { openBody, sealFrame, sealPacketFrame } from './raw-box.ts';

export const MAC_SIZE = 16;

export class Session {
  private received: Uint8Array | undefined;

  constructor(
    private readonly key: Uint8Array,
    private readonly sendNonce: Uint8Array,
    private readonly recvNonce: Uint8Array,
  ) {}

  /**
   * Encrypts `plaintext` with the send nonce and returns the whole frame. An empty plaintext is
   * sealed (a 16-byte frame, which a relay must reject); one above 2032 bytes cannot be framed.
   */
  seal(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(`plaintext of ${plaintext.length} bytes exceeds ${MAX_PLAINTEXT_LENGTH}`);
    }
    const frame = sealFrame(this.key, this.sendNonce, plaintext);
    incrementNonce(this.sendNonce);
    return frame;
  }

  /**
   * seal() of the plaintext `[id] ‖ body`, without assembling it in a new array first. With
   * `inPlace` the frame is a view that the next seal overwrites: write it to a transport that
   * copies (Transport.copiesWrites) before sealing again.
   */
  sealPacket(id: number, body: Uint8Array, inPlace = false): Uint8Array {
    if (1 + body.length > MAX_PLAINTEXT_LENGTH) {
      throw new RangeError(`plaintext of ${1 + body.length} bytes exceeds ${MAX_PLAINTEXT_LENGTH}`);
    }
    const frame = sealPacketFrame(this.key, this.sendNonce, id, body, inPlace);
    incrementNonce(this.sendNonce);
    return frame;
  }

  /**
   * Decrypts one frame body with the receive nonce; throws DECRYPT_FAILED without advancing it.
   * With `transientData` a data packet's plaintext is a view of this session's receive buffer,
   * which the next open() overwrites (see RelayClientOptions.transientData).
   */
  open(body: Uint8Array, transientData = false): Uint8Array {
    // toxcore refuses boxes of MAC size or less, so an empty plaintext never counts as a packet.
    if (body.length <= MAC_SIZE) {
      throw new ClientError('DECRYPT_FAILED', `frame of ${body.length} bytes is too short to hold a packet`);
    }
    if (transientData) this.received ??= new Uint8Array(MAX_PLAINTEXT_LENGTH);
    const plaintext = openBody(this.key, this.recvNonce, body, transientData ? this.received : undefined);
    if (!plaintext) throw new ClientError('DECRYPT_FAILED', `frame of ${body.length} bytes does not decrypt`);
    incrementNonce(this.recvNonce);
    return plaintext;
  }
}
