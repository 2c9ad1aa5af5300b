// Lookup of CONFIRMED connections by client public key: a chained hash table whose chains run
// through the connection records. The hash is seeded by the host so clients cannot aim collisions.

import { C_INDEX_NEXT, C_PUBLIC_KEY, record } from './connections';
import { KEY_SIZE } from './constants';
import { reserve } from './heap';

let buckets: usize = 0;
let mask: u32 = 0;
let seed: u64 = 0;

export function keyIndexInit(maxConnections: i32, hashSeed: u64): void {
  let size: u32 = 16;
  while (size < <u32>maxConnections * 2) size <<= 1;
  mask = size - 1;
  buckets = reserve(<usize>(size * 4));
  seed = hashSeed;
}

function bucketOf(pk: usize): usize {
  let h = seed;
  for (let i: usize = 0; i < 4; i++) {
    h ^= load<u64>(pk + i * 8);
    h *= 0x9e3779b97f4a7c15;
    h ^= h >> 31;
  }
  return buckets + <usize>((<u32>h & mask) * 4);
}

/** The CONFIRMED slot holding this key, or -1. */
export function findByKey(pk: usize): i32 {
  let entry = load<u32>(bucketOf(pk));
  while (entry != 0) {
    const slot = <i32>entry - 1;
    const c = record(slot);
    if (memory.compare(c + C_PUBLIC_KEY, pk, KEY_SIZE) == 0) return slot;
    entry = load<u32>(c + C_INDEX_NEXT);
  }
  return -1;
}

export function indexInsert(slot: i32): void {
  const c = record(slot);
  const bucket = bucketOf(c + C_PUBLIC_KEY);
  store<u32>(c + C_INDEX_NEXT, load<u32>(bucket));
  store<u32>(bucket, <u32>slot + 1);
}

export function indexRemove(slot: i32): void {
  const c = record(slot);
  let link = bucketOf(c + C_PUBLIC_KEY);
  let entry = load<u32>(link);
  while (entry != 0) {
    if (<i32>entry - 1 == slot) {
      store<u32>(link, load<u32>(c + C_INDEX_NEXT));
      store<u32>(c + C_INDEX_NEXT, 0);
      return;
    }
    link = record(<i32>entry - 1) + C_INDEX_NEXT;
    entry = load<u32>(link);
  }
}
