// Progress on stderr while a run goes: a bar redrawn in place on a terminal, otherwise one plain
// line at each phase change and every few seconds.

import { num } from './format.ts';
import type { ProgressView } from './run.ts';

const LINE_EVERY_MS = 2000;
const BAR = 24;

interface Sink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class ProgressPrinter {
  private lastPhase = '';
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly out: Sink = process.stderr,
    private readonly label = '',
  ) {}

  readonly update = (v: ProgressView): void => {
    const text = `${this.label}${describe(v)}`;
    if (this.out.isTTY) {
      const frac = v.phaseTotalS ? Math.min(1, v.phaseS / v.phaseTotalS) : undefined;
      const bar = frac === undefined ? '' : `[${'#'.repeat(Math.round(frac * BAR)).padEnd(BAR, '.')}] `;
      this.out.write(`\r\x1b[K${bar}${text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (v.phase !== this.lastPhase || now - this.lastLineAt >= LINE_EVERY_MS) {
      this.lastPhase = v.phase;
      this.lastLineAt = now;
      this.out.write(`${text}\n`);
    }
  };

  /** Clears the bar (call before printing the result). */
  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
    this.lastPhase = '';
  }
}

function describe(v: ProgressView): string {
  const t = v.totals;
  const time = v.phaseTotalS === undefined ? `${v.phaseS.toFixed(1)} s` : `${v.phaseS.toFixed(1)}/${v.phaseTotalS} s`;
  const head = `${v.workload} ${v.phase} ${time}`;
  switch (v.phase) {
    case 'starting':
      return `${head}: starting workers`;
    case 'setup':
    case 'opening':
      if (v.phase === 'setup' && v.workload === 'connect') return `${head}: preparing ${num(v.units)} client keys and hellos, warming the relay up`;
      return `${head}: ${num(t.opened)}/${num(v.units)} ${v.workload === 'connect' ? 'connections' : 'pairs'} up${t.failed ? `, ${num(t.failed)} failed` : ''}`;
    case 'hold':
    case 'verify':
      return `${head}: ${num(t.opened)} held`;
    default: {
      const what = v.workload === 'latency' ? 'round trips/s' : 'packets/s';
      const extra = [t.lost ? `${num(t.lost)} ${v.workload === 'latency' ? 'timeouts' : 'lost'}` : '', t.corrupt ? `${num(t.corrupt)} corrupt` : '', t.stalled ? `${num(t.stalled)} stalled` : '']
        .filter(Boolean)
        .join(', ');
      return `${head}: ${num(v.rate)} ${what}${extra ? `, ${extra}` : ''}`;
    }
  }
}
