// The relay client's public surface. Node users add connectTcp from './tcp.ts' (kept out of here
// so that a browser bundle of this entry point pulls in no Node module).

export { RelayClient, randomPingId } from './client.ts';
export type { ClientState, CloseEvent, RelayClientEventName, RelayClientEvents, RelayClientOptions } from './client.ts';
export { ClientError } from './errors.ts';
export type { ClientErrorCode } from './errors.ts';
export { Emitter } from './emitter.ts';
export type { Listener } from './emitter.ts';
export { ChunkQueue, encodeFrame, FrameReader, MAX_FRAME_LENGTH } from './frames.ts';
export { CLIENT_HANDSHAKE_SIZE, createHello, openReply, SERVER_HANDSHAKE_SIZE } from './handshake.ts';
export type { HandshakeState, PreparedHello } from './handshake.ts';
export { sodiumKeyAgreement } from '../crypto/key-agreement.ts';
export type { AgreementSecret, KeyAgreement } from '../crypto/key-agreement.ts';
export { memoryTransportPair } from './memory.ts';
export type { MemoryTransportOptions } from './memory.ts';
export { incrementNonce, NONCE_SIZE } from './nonce.ts';
export * from './packets.ts';
export { MAC_SIZE, Session } from './session.ts';
export { generateKeyPair, ready } from './sodium.ts';
export type { KeyPair } from './sodium.ts';
export type { Transport } from './transport.ts';
