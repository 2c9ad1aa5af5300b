// The connection table: fixed-size records in linear memory, reusable slots, identifiers.
//
// Record layout (CONNECTION_SIZE bytes):
//   0  state u8            1  header bytes read u8     2  first header byte u8
//   4  frame length u32    8  frame bytes buffered u32 12  partial-frame block ptr u32
//  16  key-index next u32 (slot + 1, 0 = end)          24  identifier u64
//  32  client public key [32]
//  64  receive nonce [24]  88  send nonce [24]
// 112  outstanding ping id [8] (0 = none)
// 120  last pinged f64 ms 128  opened at f64 ms
// 136  link chunk pointers u32 × 30 (0 = chunk not allocated)

import { CHUNKS_PER_CONNECTION, STATE_CONFIRMED, STATE_CONNECTED, STATE_FREE } from './constants';
import { reserve } from './heap';

export const CONNECTION_SIZE: i32 = 256;
export const C_STATE: usize = 0;
export const C_HEADER_HAVE: usize = 1;
export const C_HEADER_BYTE: usize = 2;
export const C_FRAME_LEN: usize = 4;
export const C_FRAME_HAVE: usize = 8;
export const C_PARTIAL: usize = 12;
export const C_INDEX_NEXT: usize = 16;
export const C_IDENTIFIER: usize = 24;
export const C_PUBLIC_KEY: usize = 32;
export const C_RECV_NONCE: usize = 64;
export const C_SEND_NONCE: usize = 88;
export const C_PING_ID: usize = 112;
export const C_LAST_PINGED: usize = 120;
export const C_OPENED_AT: usize = 128;
export const C_CHUNKS: usize = 136;

let tableBase: usize = 0;
export let capacity: i32 = 0;
// Free slots as a stack of indices; slot numbers are what the host and link tables refer to.
let freeStack: usize = 0;
let freeCount: i32 = 0;
export let liveCount: i32 = 0;
let nextIdentifier: u64 = 1;

export function connectionsInit(maxConnections: i32): void {
  capacity = maxConnections;
  tableBase = reserve(<usize>(capacity * CONNECTION_SIZE));
  freeStack = reserve(<usize>(capacity * 4));
  // Push in reverse so that slot 0 is handed out first.
  for (let i = capacity - 1; i >= 0; i--) store<u32>(freeStack + <usize>(freeCount++ * 4), <u32>i);
}

@inline export function record(slot: i32): usize {
  return tableBase + <usize>(slot * CONNECTION_SIZE);
}

export function isValidSlot(slot: i32): bool {
  return slot >= 0 && slot < capacity;
}

export function stateOf(slot: i32): u8 {
  return load<u8>(record(slot) + C_STATE);
}

/** Takes a free slot for a new socket, or -1 when the table is full. */
export function allocateSlot(state: u8, now: f64): i32 {
  if (freeCount == 0) return -1;
  const slot = <i32>load<u32>(freeStack + <usize>(--freeCount * 4));
  const c = record(slot);
  memory.fill(c, 0, <usize>CONNECTION_SIZE);
  store<u8>(c + C_STATE, state);
  store<f64>(c + C_OPENED_AT, now);
  liveCount++;
  return slot;
}

/**
 * A connection to close for a newcomer: of those opened before `openedBefore` and not confirmed,
 * the oldest that has not sent its hello yet, else the oldest waiting for its first frame (a slow
 * real client is more likely there); -1 when there is none. A scan of the table: it runs only
 * when the table is full and a newcomer needs room.
 */
export function oldestUnconfirmedSlot(openedBefore: f64): i32 {
  let silent: i32 = -1;
  let silentAt: f64 = openedBefore;
  let handshaken: i32 = -1;
  let handshakenAt: f64 = openedBefore;
  for (let slot: i32 = 0; slot < capacity; slot++) {
    const c = record(slot);
    const state = load<u8>(c + C_STATE);
    if (state == STATE_FREE || state == STATE_CONFIRMED) continue;
    const at = load<f64>(c + C_OPENED_AT);
    if (state == STATE_CONNECTED) {
      if (at < silentAt) {
        silent = slot;
        silentAt = at;
      }
    } else if (at < handshakenAt) {
      handshaken = slot;
      handshakenAt = at;
    }
  }
  return silent >= 0 ? silent : handshaken;
}

/** Returns a slot whose links, index entry and partial frame have already been released. */
export function releaseSlot(slot: i32): void {
  const c = record(slot);
  memory.fill(c, 0, <usize>CONNECTION_SIZE);
  store<u8>(c + C_STATE, STATE_FREE);
  store<u32>(freeStack + <usize>(freeCount++ * 4), <u32>slot);
  liveCount--;
}

/** Identifiers are assigned at confirmation, start at 1 and are never reused (§3). */
export function assignIdentifier(slot: i32): void {
  store<u64>(record(slot) + C_IDENTIFIER, nextIdentifier++);
}

export function chunkDir(slot: i32): usize {
  return record(slot) + C_CHUNKS;
}

export const MAX_CHUNKS: i32 = CHUNKS_PER_CONNECTION;
