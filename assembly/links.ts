// The 240 link slots of a connection (§5), stored in chunks of 8 that are allocated on first
// use and returned when empty, so a client with a handful of links costs one or two chunks.
//
// Link entry layout (LINK_SIZE bytes):
//   0 status u8   1 peer's link slot u8   4 peer connection slot u32   8 public key [32]

import { chunkDir, MAX_CHUNKS } from './connections';
import { KEY_SIZE, LINK_UNUSED, LINKS_PER_CHUNK, LINKS_PER_CONNECTION } from './constants';
import { BlockPool } from './heap';

export const LINK_SIZE: i32 = 40;
const L_STATUS: usize = 0;
const L_PEER_LINK: usize = 1;
const L_PEER_SLOT: usize = 4;
const L_PUBLIC_KEY: usize = 8;

const chunks = new BlockPool(<usize>(LINKS_PER_CHUNK * LINK_SIZE));

export function linkChunksInUse(): i32 {
  return chunks.inUse;
}

/** Address of a link entry, or 0 when its chunk is not allocated (every entry in it unused). */
function entry(slot: i32, link: i32): usize {
  const chunk = load<u32>(chunkDir(slot) + <usize>((link / LINKS_PER_CHUNK) * 4));
  if (chunk == 0) return 0;
  return <usize>chunk + <usize>((link % LINKS_PER_CHUNK) * LINK_SIZE);
}

function entryForWrite(slot: i32, link: i32): usize {
  const dirEntry = chunkDir(slot) + <usize>((link / LINKS_PER_CHUNK) * 4);
  let chunk = load<u32>(dirEntry);
  if (chunk == 0) {
    chunk = <u32>chunks.take();
    store<u32>(dirEntry, chunk);
  }
  return <usize>chunk + <usize>((link % LINKS_PER_CHUNK) * LINK_SIZE);
}

export function linkStatus(slot: i32, link: i32): u8 {
  const e = entry(slot, link);
  return e == 0 ? LINK_UNUSED : load<u8>(e + L_STATUS);
}

export function linkPeerSlot(slot: i32, link: i32): i32 {
  return <i32>load<u32>(entry(slot, link) + L_PEER_SLOT);
}

export function linkPeerLink(slot: i32, link: i32): i32 {
  return <i32>load<u8>(entry(slot, link) + L_PEER_LINK);
}

export function linkKey(slot: i32, link: i32): usize {
  return entry(slot, link) + L_PUBLIC_KEY;
}

/** The link slot (status ≠ unused) that names this key, or -1. */
export function findLink(slot: i32, pk: usize): i32 {
  const dir = chunkDir(slot);
  for (let c = 0; c < MAX_CHUNKS; c++) {
    const chunk = <usize>load<u32>(dir + <usize>(c * 4));
    if (chunk == 0) continue;
    for (let i = 0; i < LINKS_PER_CHUNK; i++) {
      const e = chunk + <usize>(i * LINK_SIZE);
      if (load<u8>(e + L_STATUS) != LINK_UNUSED && memory.compare(e + L_PUBLIC_KEY, pk, KEY_SIZE) == 0) {
        return c * LINKS_PER_CHUNK + i;
      }
    }
  }
  return -1;
}

/** The lowest unused link slot, or -1 when all 240 are in use (§5.1 step 3–4). */
export function lowestFreeLink(slot: i32): i32 {
  for (let link = 0; link < LINKS_PER_CONNECTION; link++) {
    if (linkStatus(slot, link) == LINK_UNUSED) return link;
  }
  return -1;
}

export function setLink(slot: i32, link: i32, status: u8, pk: usize): void {
  const e = entryForWrite(slot, link);
  store<u8>(e + L_STATUS, status);
  memory.copy(e + L_PUBLIC_KEY, pk, KEY_SIZE);
}

/** Marks a link online, pointing at the peer's connection slot and link slot. */
export function setOnline(slot: i32, link: i32, status: u8, peerSlot: i32, peerLink: i32): void {
  const e = entryForWrite(slot, link);
  store<u8>(e + L_STATUS, status);
  store<u8>(e + L_PEER_LINK, <u8>peerLink);
  store<u32>(e + L_PEER_SLOT, <u32>peerSlot);
}

/** Sets status only, keeping the key (an online link that goes back to requested). */
export function setStatus(slot: i32, link: i32, status: u8): void {
  store<u8>(entry(slot, link) + L_STATUS, status);
}

export function clearLink(slot: i32, link: i32): void {
  const dirEntry = chunkDir(slot) + <usize>((link / LINKS_PER_CHUNK) * 4);
  const chunk = <usize>load<u32>(dirEntry);
  if (chunk == 0) return;
  memory.fill(chunk + <usize>((link % LINKS_PER_CHUNK) * LINK_SIZE), 0, <usize>LINK_SIZE);
  for (let i = 0; i < LINKS_PER_CHUNK; i++) {
    if (load<u8>(chunk + <usize>(i * LINK_SIZE) + L_STATUS) != LINK_UNUSED) return;
  }
  chunks.give(chunk);
  store<u32>(dirEntry, 0);
}

/** Releases every chunk of a connection that is going away. */
export function clearAllLinks(slot: i32): void {
  const dir = chunkDir(slot);
  for (let c = 0; c < MAX_CHUNKS; c++) {
    const chunk = <usize>load<u32>(dir + <usize>(c * 4));
    if (chunk != 0) {
      chunks.give(chunk);
      store<u32>(dir + <usize>(c * 4), 0);
    }
  }
}
