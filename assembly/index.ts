// The relay core's entry points. The host (src/core/core.ts) copies socket bytes in, decrypts
// and encrypts frames, and performs the actions each call leaves in the action area.
//
// A packet's path:  feed → nextFrame → (host decrypts into the plaintext area) → acceptFrame
//                   → handlePacket → actions → (host encrypts and writes each SEND, closes each KILL)

import { actionCount, actionsBase, actionsInit, actionsReset, emitSend } from './actions';
import {
  allocateSlot, C_IDENTIFIER, C_PUBLIC_KEY, C_RECV_NONCE, C_SEND_NONCE, C_STATE, capacity,
  connectionsInit, isValidSlot, liveCount, oldestUnconfirmedSlot, record, stateOf,
} from './connections';
import {
  KEY_SIZE, MAX_FRAME_SIZE, NONCE_SIZE, STATE_CONFIRMED, STATE_CONNECTED, STATE_UNCONFIRMED,
} from './constants';
import { feed as feedInput, framePtr, framesInit, inputBase, nextFrame as readFrame, partialBlocksInUse } from './frames';
import { findByKey, keyIndexInit } from './keyindex';
import { confirm, confirmedCount, killConnection, onlineLinks } from './lifecycle';
import { linkChunksInUse, linkStatus, linkPeerLink, linkPeerSlot } from './links';
import { incrementNonce } from './nonce';
import { enableModules, handlePacket } from './packets';
import { randomSeed } from './random';
import { sweepBegin as beginSweep, sweepDone as isSweepDone, sweepStep as stepSweep, timersInit } from './timers';

let plainBase: usize = 0; // decrypted frames land here
let scratchBase: usize = 0; // handshake results, nonces and keys passed between host and core
let initialized = false;

export function init(
  maxConnections: i32, pingIntervalMs: f64, pingTimeoutMs: f64, handshakeTimeoutMs: f64, seed: u64, moduleFlags: i32,
): void {
  if (initialized) unreachable();
  initialized = true;
  enableModules(moduleFlags);
  randomSeed(seed);
  connectionsInit(maxConnections);
  keyIndexInit(maxConnections, seed ^ 0x5851f42d4c957f2d);
  actionsInit();
  framesInit();
  plainBase = heap.alloc(<usize>MAX_FRAME_SIZE);
  scratchBase = heap.alloc(128);
  timersInit(pingIntervalMs, pingTimeoutMs, handshakeTimeoutMs);
}

// --- areas shared with the host ---
export function inputArea(): usize { return inputBase; }
export function plaintextArea(): usize { return plainBase; }
export function scratchArea(): usize { return scratchBase; }
export function actionArea(): usize { return actionsBase; }
export function lastFramePtr(): usize { return framePtr; }

// --- connections ---
/** A new socket: its slot, or -1 when the connection cap is reached. */
export function openConnection(now: f64): i32 {
  return allocateSlot(STATE_CONNECTED, now);
}

/** Room for a newcomer when the table is full: the oldest unconfirmed slot opened before then, or -1. */
export function oldestUnconfirmed(openedBefore: f64): i32 {
  return liveCount > confirmedCount ? oldestUnconfirmedSlot(openedBefore) : -1;
}

export function state(slot: i32): i32 {
  return isValidSlot(slot) ? <i32>stateOf(slot) : -1;
}

/** The host verified the hello; scratch holds [client pk 32][recv nonce 24][send nonce 24]. */
export function handshakeDone(slot: i32): void {
  const c = record(slot);
  memory.copy(c + C_PUBLIC_KEY, scratchBase, KEY_SIZE);
  memory.copy(c + C_RECV_NONCE, scratchBase + KEY_SIZE, NONCE_SIZE);
  memory.copy(c + C_SEND_NONCE, scratchBase + KEY_SIZE + NONCE_SIZE, NONCE_SIZE);
  store<u8>(c + C_STATE, STATE_UNCONFIRMED);
}

export function feed(slot: i32, len: i32): void {
  feedInput(slot, len);
}

/** > 0: a frame of that length at lastFramePtr(); 0: need more bytes; -1: close the connection. */
export function nextFrame(): i32 {
  return readFrame();
}

export function recvNonce(slot: i32): usize {
  return record(slot) + C_RECV_NONCE;
}

/** The nonce for the next frame to this connection (copied to scratch), then advanced. */
export function takeSendNonce(slot: i32): usize {
  const n = record(slot) + C_SEND_NONCE;
  memory.copy(scratchBase, n, NONCE_SIZE);
  incrementNonce(n);
  return scratchBase;
}

/** A frame decrypted to `len` plaintext bytes: confirm if needed, then handle it. Returns the action count. */
export function acceptFrame(slot: i32, len: i32, now: f64): i32 {
  actionsReset();
  const c = record(slot);
  incrementNonce(c + C_RECV_NONCE);
  if (load<u8>(c + C_STATE) == STATE_UNCONFIRMED) confirm(slot, now);
  handlePacket(slot, plainBase, len);
  return actionCount;
}

/**
 * A packet from the UDP side for a connection named in a return path (§8, §9): the plaintext
 * area holds it, and it is sent only if that slot still holds the same confirmed connection.
 */
export function deliverPacket(slot: i32, identifier: u64, len: i32): i32 {
  actionsReset();
  if (!isValidSlot(slot) || stateOf(slot) != STATE_CONFIRMED) return 0;
  if (load<u64>(record(slot) + C_IDENTIFIER) != identifier) return 0;
  emitSend(slot, plainBase, len, false);
  return actionCount;
}

/** The host closes a connection (socket gone, bad MAC, overflow). Returns the action count. */
export function closeConnection(slot: i32, reason: u8): i32 {
  actionsReset();
  if (isValidSlot(slot)) killConnection(slot, reason);
  return actionCount;
}

export function sweepBegin(now: f64): void { beginSweep(now); }
export function sweepStep(): i32 { return stepSweep(); }
export function sweepDone(): bool { return isSweepDone(); }

// --- inspection (tests, metrics, return paths) ---
export function identifier(slot: i32): u64 {
  return load<u64>(record(slot) + C_IDENTIFIER);
}
export function publicKey(slot: i32): usize {
  return record(slot) + C_PUBLIC_KEY;
}
/** Slot of the confirmed connection whose key is in scratch, or -1. */
export function findConnection(): i32 {
  return findByKey(scratchBase);
}
export function linkStatusOf(slot: i32, link: i32): i32 { return linkStatus(slot, link); }
export function linkPeer(slot: i32, link: i32): i32 { return linkPeerSlot(slot, link); }
export function linkPeerLinkOf(slot: i32, link: i32): i32 { return linkPeerLink(slot, link); }
export function connectionCapacity(): i32 { return capacity; }
export function connectionsLive(): i32 { return liveCount; }
export function connectionsConfirmed(): i32 { return confirmedCount; }
export function linkChunks(): i32 { return linkChunksInUse(); }
export function linksOnline(): i32 { return onlineLinks; }
export function partialFrames(): i32 { return partialBlocksInUse(); }
export function memoryBytes(): usize { return <usize>memory.size() << 16; }
export function nonceIncrement(ptr: usize): void { incrementNonce(ptr); }
