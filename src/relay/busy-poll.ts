// Busy polling: after input, the event loop keeps polling its sockets (epoll with a zero timeout,
// driven by a chain of setImmediate) for a short window instead of going to sleep. On virtual
// machines, waking a sleeping process costs an interrupt that exits to the hypervisor, and a
// relayed round trip wakes the relay twice: in session 4 that was ~300 µs of a 430 µs round trip
// on the 2-vCPU KVM machine (docs/PERFORMANCE.md). A polling relay is awake when the answer comes.
// The price is CPU: while packets keep coming within the window, the relay holds a whole core,
// and any client with a session can keep them coming (which is why it is off by default).

import { performance } from 'node:perf_hooks';

/** Keeps the Node event loop polling for `windowUs` after each poke(); a window of 0 is off. */
export class BusyPoll {
  private readonly windowMs: number;
  private until = 0;
  private polling = false;
  private turnCount = 0;
  private readonly loop = (): void => {
    this.turnCount++;
    if (performance.now() < this.until) setImmediate(this.loop);
    else this.polling = false;
  };

  constructor(windowUs: number) {
    this.windowMs = windowUs / 1000;
  }

  /** Input arrived: poll at least `windowUs` more. */
  readonly poke = (): void => {
    if (this.windowMs <= 0) return;
    this.until = performance.now() + this.windowMs;
    if (this.polling) return;
    this.polling = true;
    setImmediate(this.loop);
  };

  /** Ends the current window (the relay is closing), so that the loop may sleep or exit. */
  stop(): void {
    this.until = 0;
  }

  get active(): boolean {
    return this.polling;
  }

  /** Turns of the event loop spent polling so far. */
  get turns(): number {
    return this.turnCount;
  }
}
