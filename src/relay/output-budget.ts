// The output budget: bytes waiting to be written to all connections together. Within it, each
// connection may hold dropAboveBytes of relayed packets (and priority replies up to
// closeAboveBytes). Over it, as the once-a-second timer pass sees it:
// - relayed packets are dropped above an equal share of the budget per connection, so that many
//   slow readers together stay near the budget, losing packets as c-toxcore's do, not their
//   connection;
// - connections holding more than dropAboveBytes and one frame are closed, largest first, until
//   the total is within the budget. Relayed packets cannot take a backlog there; only replies
//   to a client that stopped reading but still sends pings or routing requests can.

import { MAX_FRAME_SIZE } from '../crypto/box.ts';
import type { Session } from './session.ts';

/** The most a relayed packet adds past the drop check: one frame, its length prefix included. */
const MAX_WIRE_FRAME = 2 + MAX_FRAME_SIZE;

/** What the relay needs of a session here (a test can pass plain objects). */
export type BudgetedSession = Pick<Session, 'alive' | 'backlog'>;

export class OutputBudget {
  /** The backlog above which relayed (non-priority) packets are dropped, until the next review. */
  dropAt: number;
  /** All backlogs together at the last review, after its closes. */
  total = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly dropAboveBytes: number,
  ) {
    this.dropAt = dropAboveBytes;
  }

  /** Sums the backlogs and returns the sessions to close, largest first (none within the budget). */
  review<S extends BudgetedSession>(sessions: Iterable<S | undefined>): S[] {
    const live: Array<{ session: S; backlog: number }> = [];
    let total = 0;
    for (const session of sessions) {
      if (!session?.alive) continue;
      const backlog = session.backlog();
      live.push({ session, backlog });
      total += backlog;
    }
    const close: S[] = [];
    if (total > this.budgetBytes) {
      const closable = live.filter((s) => s.backlog > this.dropAboveBytes + MAX_WIRE_FRAME).sort((a, b) => b.backlog - a.backlog);
      for (const s of closable) {
        if (total <= this.budgetBytes) break;
        close.push(s.session);
        total -= s.backlog;
      }
    }
    const open = live.length - close.length;
    this.total = total;
    this.dropAt = total <= this.budgetBytes ? this.dropAboveBytes : Math.min(this.dropAboveBytes, Math.floor(this.budgetBytes / Math.max(1, open)));
    return close;
  }
}
