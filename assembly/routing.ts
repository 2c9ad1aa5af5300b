// Links between connections (§5): routing requests, relayed data, disconnect requests.
// The wire conn_id is link slot + 16; the conversion happens only in this file and notify().

import { composeBuffer, emitSend } from './actions';
import { C_PUBLIC_KEY, record } from './connections';
import {
  CLOSE_UNUSED_SLOT, CONNECT_NOTIFICATION, DISCONNECT_NOTIFICATION, KEY_SIZE, LINK_ONLINE,
  LINK_REQUESTED, LINK_UNUSED, LINKS_PER_CONNECTION, NUM_RESERVED_IDS, ROUTING_RESPONSE,
} from './constants';
import { findByKey } from './keyindex';
import { countLink, killConnection, notify } from './lifecycle';
import {
  clearLink, findLink, linkPeerLink, linkPeerSlot, linkStatus, lowestFreeLink, setLink, setOnline, setStatus,
} from './links';

function respond(slot: i32, link: i32, pk: usize): void {
  const p = composeBuffer(2 + KEY_SIZE);
  store<u8>(p, ROUTING_RESPONSE);
  store<u8>(p, link < 0 ? 0 : <u8>(link + NUM_RESERVED_IDS), 1);
  memory.copy(p + 2, pk, KEY_SIZE);
  emitSend(slot, p, 2 + KEY_SIZE, true);
}

/** §5.1: `[0][pk]` from `slot`. */
export function routingRequest(slot: i32, pk: usize): void {
  const ownKey = record(slot) + C_PUBLIC_KEY;
  if (memory.compare(pk, ownKey, KEY_SIZE) == 0) {
    respond(slot, -1, pk);
    return;
  }
  const existing = findLink(slot, pk);
  if (existing >= 0) {
    respond(slot, existing, pk); // a repeat: same id, nothing else
    return;
  }
  const link = lowestFreeLink(slot);
  respond(slot, link, pk);
  if (link < 0) return;
  setLink(slot, link, LINK_REQUESTED, pk);

  const peer = findByKey(pk);
  if (peer < 0) return; // only confirmed connections are in the key index
  const peerLink = findLink(peer, ownKey);
  if (peerLink < 0 || linkStatus(peer, peerLink) != LINK_REQUESTED) return;
  setOnline(slot, link, LINK_ONLINE, peer, peerLink);
  setOnline(peer, peerLink, LINK_ONLINE, slot, link);
  countLink(1);
  notify(slot, CONNECT_NOTIFICATION, link);
  notify(peer, CONNECT_NOTIFICATION, peerLink);
}

/** §5.2: `[conn_id][payload]` from `slot`, relayed in place with the peer's conn_id. */
export function relayData(slot: i32, plain: usize, len: i32): void {
  const link = <i32>load<u8>(plain) - NUM_RESERVED_IDS;
  const status = linkStatus(slot, link);
  if (status == LINK_UNUSED) {
    killConnection(slot, CLOSE_UNUSED_SLOT);
    return;
  }
  if (status != LINK_ONLINE) return; // peer offline or not asking back: dropped silently
  store<u8>(plain, <u8>(linkPeerLink(slot, link) + NUM_RESERVED_IDS));
  emitSend(linkPeerSlot(slot, link), plain, len, false);
}

/** §5.3: `[3][conn_id]` from `slot`. */
export function disconnectRequest(slot: i32, connId: u8): void {
  const link = <i32>((connId - <u8>NUM_RESERVED_IDS) & 0xff);
  if (link >= LINKS_PER_CONNECTION) {
    killConnection(slot, CLOSE_UNUSED_SLOT);
    return;
  }
  const status = linkStatus(slot, link);
  if (status == LINK_UNUSED) {
    killConnection(slot, CLOSE_UNUSED_SLOT);
    return;
  }
  if (status == LINK_ONLINE) {
    countLink(-1);
    const peer = linkPeerSlot(slot, link);
    const peerLink = linkPeerLink(slot, link);
    setStatus(peer, peerLink, LINK_REQUESTED);
    notify(peer, DISCONNECT_NOTIFICATION, peerLink);
  }
  clearLink(slot, link);
}
