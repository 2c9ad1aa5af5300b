// The timer sweep (§7 plus our handshake timeout): pings every interval, kills on a missed
// pong or an unfinished handshake. It runs in steps so that a sweep over many connections
// never overflows the action area; the host calls sweepStep() until sweepDone().

import { actionCount, actionsReset, actionsRoom, composeBuffer, emitSend } from './actions';
import { C_LAST_PINGED, C_OPENED_AT, C_PING_ID, capacity, record } from './connections';
import {
  CLOSE_HANDSHAKE_TIMEOUT, CLOSE_PING_TIMEOUT, LINKS_PER_CONNECTION, PING, PING_ID_SIZE,
  STATE_CONFIRMED, STATE_CONNECTED, STATE_UNCONFIRMED,
} from './constants';
import { killConnection } from './lifecycle';
import { randomNonZero } from './random';

export let pingInterval: f64 = 30000;
export let pingTimeout: f64 = 10000;
export let handshakeTimeout: f64 = 10000;

let sweepNow: f64 = 0;
let sweepCursor: i32 = 0;

export function timersInit(interval: f64, timeout: f64, handshake: f64): void {
  pingInterval = interval;
  pingTimeout = timeout;
  handshakeTimeout = handshake;
}

export function sweepBegin(now: f64): void {
  sweepNow = now;
  sweepCursor = 0;
}

export function sweepDone(): bool {
  return sweepCursor >= capacity;
}

export function sweepStep(): i32 {
  actionsReset();
  // The most one connection can need: a ping (two units) and a kill that notifies 240 peers.
  while (sweepCursor < capacity && actionsRoom() >= LINKS_PER_CONNECTION + 3) {
    checkConnection(sweepCursor++);
  }
  return actionCount;
}

function checkConnection(slot: i32): void {
  const c = record(slot);
  const state = load<u8>(c);
  if (state == STATE_CONNECTED || state == STATE_UNCONFIRMED) {
    if (sweepNow >= load<f64>(c + C_OPENED_AT) + handshakeTimeout) killConnection(slot, CLOSE_HANDSHAKE_TIMEOUT);
    return;
  }
  if (state != STATE_CONFIRMED) return;
  if (sweepNow >= load<f64>(c + C_LAST_PINGED) + pingInterval) {
    const id = randomNonZero();
    const p = composeBuffer(1 + PING_ID_SIZE);
    store<u8>(p, PING);
    store<u64>(p + 1, id);
    emitSend(slot, p, 1 + PING_ID_SIZE, true);
    store<u64>(c + C_PING_ID, id);
    store<f64>(c + C_LAST_PINGED, sweepNow);
  }
  if (load<u64>(c + C_PING_ID) != 0 && sweepNow >= load<f64>(c + C_LAST_PINGED) + pingTimeout) {
    killConnection(slot, CLOSE_PING_TIMEOUT);
  }
}
