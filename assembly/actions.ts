// The decisions the core hands back to the host: which connection gets which plaintext, and
// which connection is closed. The host performs them in order after each call.

import { ACTION_FORWARD, ACTION_KILL, ACTION_ONION, ACTION_SEND, ACTION_SIZE, MAX_ACTIONS, OUT_AREA_SIZE } from './constants';
import { reserve } from './heap';

export let actionsBase: usize = 0;
export let actionCount: i32 = 0;
// Bytes of plaintext the core composes itself (responses, notifications, pings).
export let outBase: usize = 0;
let outUsed: i32 = 0;

export function actionsInit(): void {
  actionsBase = reserve(<usize>(MAX_ACTIONS * ACTION_SIZE));
  outBase = reserve(<usize>OUT_AREA_SIZE);
}

export function actionsReset(): void {
  actionCount = 0;
  outUsed = 0;
}

const COMPOSE_UNIT: i32 = 8; // composeBuffer() hands out multiples of this

/**
 * Room left, counted in two-byte notifications (one action and one compose unit each), so that
 * batch work (the timer sweep) can stop before overflowing.
 */
export function actionsRoom(): i32 {
  return min(MAX_ACTIONS - actionCount, (OUT_AREA_SIZE - outUsed) / COMPOSE_UNIT);
}

/** Space for a plaintext the core writes; valid until the next call from the host. */
export function composeBuffer(len: i32): usize {
  if (outUsed + len > OUT_AREA_SIZE) unreachable();
  const ptr = outBase + <usize>outUsed;
  outUsed += (len + COMPOSE_UNIT - 1) & ~(COMPOSE_UNIT - 1);
  return ptr;
}

function push(kind: u8, priority: bool, reason: u8, slot: i32, ptr: usize, len: i32): void {
  if (actionCount >= MAX_ACTIONS) unreachable();
  const a = actionsBase + <usize>(actionCount * ACTION_SIZE);
  store<u8>(a, kind);
  store<u8>(a, priority ? 1 : 0, 1);
  store<u8>(a, reason, 2);
  store<u32>(a, <u32>slot, 4);
  store<u32>(a, <u32>ptr, 8);
  store<u32>(a, <u32>len, 12);
  actionCount++;
}

/** Priority packets are control traffic the host must queue; others it may drop when backed up (§6). */
export function emitSend(slot: i32, ptr: usize, len: i32, priority: bool): void {
  push(ACTION_SEND, priority, 0, slot, ptr, len);
}

export function emitKill(slot: i32, reason: u8): void {
  push(ACTION_KILL, false, reason, slot, 0, 0);
}

/** A request the host's UDP side carries out; the core has checked everything it can. */
export function emitUdpRequest(slot: i32, ptr: usize, len: i32, forward: bool): void {
  push(forward ? ACTION_FORWARD : ACTION_ONION, false, 0, slot, ptr, len);
}
