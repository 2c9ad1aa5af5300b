// A connection's life in the table: confirmation (§1), and the kill with its cleanup (§5.4).

import { emitKill, emitSend, composeBuffer } from './actions';
import {
  assignIdentifier, C_LAST_PINGED, C_PING_ID, C_PUBLIC_KEY, C_STATE, record, releaseSlot, stateOf,
} from './connections';
import {
  CLOSE_REPLACED, DISCONNECT_NOTIFICATION, LINK_ONLINE, LINK_REQUESTED, LINKS_PER_CONNECTION,
  NUM_RESERVED_IDS, STATE_CONFIRMED, STATE_FREE,
} from './constants';
import { abandonInput, releasePartial } from './frames';
import { findByKey, indexInsert, indexRemove } from './keyindex';
import { clearAllLinks, linkPeerLink, linkPeerSlot, linkStatus, setStatus } from './links';

export let confirmedCount: i32 = 0;
/** Linked pairs (each counted once, not per side). */
export let onlineLinks: i32 = 0;

export function countLink(delta: i32): void {
  onlineLinks += delta;
}

/** Sends `[id][conn_id]`, the two-byte notifications, as priority output. */
export function notify(slot: i32, id: u8, link: i32): void {
  const p = composeBuffer(2);
  store<u8>(p, id);
  store<u8>(p, <u8>(link + NUM_RESERVED_IDS), 1);
  emitSend(slot, p, 2, true);
}

/**
 * The first valid frame confirms a connection: a confirmed connection with the same key is
 * killed first (its peers hear of it), then this one enters the key index (§1 a–b).
 */
export function confirm(slot: i32, now: f64): void {
  const c = record(slot);
  const previous = findByKey(c + C_PUBLIC_KEY);
  if (previous >= 0) killConnection(previous, CLOSE_REPLACED);
  assignIdentifier(slot);
  indexInsert(slot);
  store<u8>(c + C_STATE, STATE_CONFIRMED);
  store<f64>(c + C_LAST_PINGED, now);
  store<u64>(c + C_PING_ID, 0);
  confirmedCount++;
}

/**
 * Forgets a connection: each online peer drops back to "requested" (keeping this key, so a
 * reconnect relinks at once) and gets a disconnect notification; then the host closes the socket.
 */
export function killConnection(slot: i32, reason: u8): void {
  const state = stateOf(slot);
  if (state == STATE_FREE) return;
  if (state == STATE_CONFIRMED) {
    for (let link = 0; link < LINKS_PER_CONNECTION; link++) {
      if (linkStatus(slot, link) != LINK_ONLINE) continue;
      const peer = linkPeerSlot(slot, link);
      const peerLink = linkPeerLink(slot, link);
      setStatus(peer, peerLink, LINK_REQUESTED);
      notify(peer, DISCONNECT_NOTIFICATION, peerLink);
      onlineLinks--;
    }
    indexRemove(slot);
    confirmedCount--;
  }
  clearAllLinks(slot);
  releasePartial(slot);
  abandonInput(slot);
  releaseSlot(slot);
  emitKill(slot, reason);
}
