// The frame reader (§1, §2). The host copies each socket read into the input area and calls
// feed(); nextFrame() then yields whole frames one at a time. A frame that lies wholly in the
// input is handed out in place; one split across reads is gathered in a per-connection block
// taken only while the split lasts, then copied to the frame area.

import {
  C_FRAME_HAVE, C_FRAME_LEN, C_HEADER_BYTE, C_HEADER_HAVE, C_PARTIAL, C_STATE, record,
} from './connections';
import {
  HANDSHAKE_REQUEST_SIZE, INPUT_AREA_SIZE, MAC_SIZE, MAX_FRAME_SIZE, STATE_CONNECTED,
} from './constants';
import { BlockPool, reserve } from './heap';

export const FRAME_INCOMPLETE: i32 = 0; // every byte of the input is consumed
export const FRAME_INVALID: i32 = -1; // a length the protocol forbids: close the connection

export let inputBase: usize = 0;
export let frameBase: usize = 0; // where the last whole frame was copied, if it was split
export let framePtr: usize = 0; // where the last frame returned by nextFrame() starts

let cursor: usize = 0;
let end: usize = 0;
let feedSlot: i32 = -1;
const partials = new BlockPool(<usize>(MAX_FRAME_SIZE + 16));

export function framesInit(): void {
  inputBase = reserve(<usize>INPUT_AREA_SIZE);
  frameBase = reserve(<usize>(MAX_FRAME_SIZE + 16));
}

export function partialBlocksInUse(): i32 {
  return partials.inUse;
}

/** Starts reading `len` bytes (≤ the input area) from the input area for this connection. */
export function feed(slot: i32, len: i32): void {
  feedSlot = slot;
  cursor = inputBase;
  end = inputBase + <usize>min(len, INPUT_AREA_SIZE);
}

/** Drops whatever is left of the current input (its connection was closed). */
export function abandonInput(slot: i32): void {
  if (slot == feedSlot) cursor = end;
}

export function releasePartial(slot: i32): void {
  const c = record(slot);
  const block = <usize>load<u32>(c + C_PARTIAL);
  if (block != 0) {
    partials.give(block);
    store<u32>(c + C_PARTIAL, 0);
  }
}

/** Collects `need` body bytes; true when they are all there and framePtr points at them. */
function takeBody(c: usize, need: i32): bool {
  const have = <i32>load<u32>(c + C_FRAME_HAVE);
  const available = <i32>(end - cursor);
  if (available == 0) return false;
  if (have == 0 && available >= need) {
    framePtr = cursor;
    cursor += <usize>need;
    return true;
  }
  let block = <usize>load<u32>(c + C_PARTIAL);
  if (block == 0) {
    block = partials.take();
    store<u32>(c + C_PARTIAL, <u32>block);
  }
  const n = min(need - have, available);
  memory.copy(block + <usize>have, cursor, <usize>n);
  cursor += <usize>n;
  if (have + n < need) {
    store<u32>(c + C_FRAME_HAVE, <u32>(have + n));
    return false;
  }
  memory.copy(frameBase, block, <usize>need);
  framePtr = frameBase;
  store<u32>(c + C_FRAME_HAVE, 0);
  partials.give(block);
  store<u32>(c + C_PARTIAL, 0);
  return true;
}

/**
 * The next whole frame of the fed input: its length (> 0) with framePtr at its first byte, or
 * FRAME_INCOMPLETE, or FRAME_INVALID. While the connection awaits its handshake the "frame" is
 * the 128-byte hello, which has no length prefix.
 */
export function nextFrame(): i32 {
  const c = record(feedSlot);
  if (load<u8>(c + C_STATE) == STATE_CONNECTED) {
    return takeBody(c, HANDSHAKE_REQUEST_SIZE) ? HANDSHAKE_REQUEST_SIZE : FRAME_INCOMPLETE;
  }
  while (true) {
    let headerHave = load<u8>(c + C_HEADER_HAVE);
    if (headerHave < 2) {
      while (headerHave < 2 && cursor < end) {
        if (headerHave == 0) store<u8>(c + C_HEADER_BYTE, load<u8>(cursor));
        else store<u32>(c + C_FRAME_LEN, (<u32>load<u8>(c + C_HEADER_BYTE) << 8) | load<u8>(cursor));
        cursor++;
        headerHave++;
      }
      store<u8>(c + C_HEADER_HAVE, headerHave);
      if (headerHave < 2) return FRAME_INCOMPLETE;
      const len = <i32>load<u32>(c + C_FRAME_LEN);
      if (len == 0) {
        // A zero length is padding: skipped, no nonce consumed (§2).
        store<u8>(c + C_HEADER_HAVE, 0);
        continue;
      }
      if (len > MAX_FRAME_SIZE) return FRAME_INVALID;
    }
    const len = <i32>load<u32>(c + C_FRAME_LEN);
    if (!takeBody(c, len)) return FRAME_INCOMPLETE;
    store<u8>(c + C_HEADER_HAVE, 0);
    // Like c-toxcore, a too-short frame is refused only once all of it has arrived.
    if (len <= MAC_SIZE) return FRAME_INVALID;
    return len;
  }
}
