// The functions assembly/index.ts exports, as the host sees them (pointers are byte offsets
// into the core's memory).

export interface CoreExports {
  memory: WebAssembly.Memory;
  init(maxConnections: number, pingIntervalMs: number, pingTimeoutMs: number, handshakeTimeoutMs: number, seed: bigint, moduleFlags: number): void;
  inputArea(): number;
  plaintextArea(): number;
  scratchArea(): number;
  actionArea(): number;
  lastFramePtr(): number;
  openConnection(now: number): number;
  state(slot: number): number;
  handshakeDone(slot: number): void;
  feed(slot: number, len: number): void;
  nextFrame(): number;
  recvNonce(slot: number): number;
  takeSendNonce(slot: number): number;
  acceptFrame(slot: number, len: number, now: number): number;
  closeConnection(slot: number, reason: number): number;
  oldestUnconfirmed(openedBefore: number): number;
  deliverPacket(slot: number, identifier: bigint, len: number): number;
  sweepBegin(now: number): void;
  sweepStep(): number;
  sweepDone(): number;
  identifier(slot: number): bigint;
  publicKey(slot: number): number;
  findConnection(): number;
  linkStatusOf(slot: number, link: number): number;
  linkPeer(slot: number, link: number): number;
  linkPeerLinkOf(slot: number, link: number): number;
  connectionCapacity(): number;
  connectionsLive(): number;
  connectionsConfirmed(): number;
  linkChunks(): number;
  linksOnline(): number;
  partialFrames(): number;
  memoryBytes(): number;
  nonceIncrement(ptr: number): void;
}

/** Mirrors assembly/constants.ts. */
export const ConnectionState = { FREE: 0, CONNECTED: 1, UNCONFIRMED: 2, CONFIRMED: 3 } as const;
export const LinkStatus = { UNUSED: 0, REQUESTED: 1, ONLINE: 2 } as const;
export const ActionKind = { SEND: 1, KILL: 2, ONION: 3, FORWARD: 4 } as const;
/** Optional modules of the core, enabled at init. */
export const CoreModule = { ONION: 1, FORWARDING: 2 } as const;
export const ACTION_SIZE = 16;
export const INPUT_AREA_SIZE = 65536;
export const HANDSHAKE_REQUEST_SIZE = 128;

export const CloseReason = {
  BAD_FRAME_LENGTH: 1,
  DECRYPT_FAILED: 2,
  BAD_PACKET: 3,
  UNUSED_SLOT: 4,
  PING_TIMEOUT: 5,
  HANDSHAKE_TIMEOUT: 6,
  REPLACED: 7,
  SOCKET_CLOSED: 8,
  UNSUPPORTED: 9,
  OUTPUT_OVERFLOW: 10,
  SERVER_SHUTDOWN: 11,
  EVICTED: 12,
} as const;
export type CloseReasonCode = (typeof CloseReason)[keyof typeof CloseReason];

export const closeReasonName: Record<number, string> = Object.fromEntries(
  Object.entries(CloseReason).map(([name, code]) => [code, name.toLowerCase().replace(/_/g, '-')]),
);
