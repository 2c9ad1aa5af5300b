// The relay's notion of time. Tests inject a ManualClock and advance it instead of sleeping.

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
};

export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
