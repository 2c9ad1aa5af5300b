// Counters of what the relay did, for logs, tests and (later) metrics.

import { closeReasonName } from '../core/exports.ts';

export class RelayStats {
  accepted = 0;
  refusedFull = 0;
  refusedPerIp = 0;
  handshakes = 0;
  handshakesFailed = 0;
  framesIn = 0;
  framesOut = 0;
  /** Non-priority packets dropped because their destination was backed up (§6). */
  dropped = 0;
  /** Connections closed because they stopped reading. */
  overflowed = 0;
  readonly closes: Record<string, number> = {};

  countClose(reason: number): void {
    const name = closeReasonName[reason] ?? String(reason);
    this.closes[name] = (this.closes[name] ?? 0) + 1;
  }
}
