// Linear-memory allocation. Big regions come from the stub runtime's bump allocator (never
// freed); blocks that come and go (link chunks, partial frames) recycle through free lists.
// Every pool is bounded by the connection cap.

/** Reserves zeroed, 16-byte aligned bytes that live as long as the module. */
export function reserve(bytes: usize): usize {
  const ptr = heap.alloc(bytes);
  memory.fill(ptr, 0, bytes);
  return ptr;
}

/** A free list of equal-sized blocks; freed blocks are reused before the heap grows. */
export class BlockPool {
  freeHead: usize = 0;
  inUse: i32 = 0;
  constructor(public blockSize: usize) {}

  take(): usize {
    this.inUse++;
    const head = this.freeHead;
    if (head == 0) return reserve(this.blockSize);
    this.freeHead = load<usize>(head);
    memory.fill(head, 0, this.blockSize);
    return head;
  }

  give(ptr: usize): void {
    this.inUse--;
    store<usize>(ptr, this.freeHead);
    this.freeHead = ptr;
  }
}
