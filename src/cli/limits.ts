// The open-files limit against the connection cap. Node raises its soft limit to the hard one as
// it starts, and has no setrlimit to go further, so toxrelay reads the limit (Linux) and says so
// at start when the cap cannot be reached.

import { readFileSync } from 'node:fs';

/** Descriptors toxrelay holds besides client sockets: listeners, UDP, stdio, libuv, files. */
const SPARE_DESCRIPTORS = 64;

export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/** The soft and hard RLIMIT_NOFILE from /proc/self/limits, or undefined where there is none. */
export function openFilesLimit(limits = '/proc/self/limits'): OpenFilesLimit | undefined {
  let text: string;
  try {
    text = readFileSync(limits, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!match) return undefined;
  const value = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** A warning line when `maxConnections` sockets would not fit under the soft limit, else undefined. */
export function openFilesWarning(maxConnections: number, limit = openFilesLimit()): string | undefined {
  if (!limit || limit.soft >= maxConnections + SPARE_DESCRIPTORS) return undefined;
  const hard = limit.hard === Infinity ? 'unlimited' : String(limit.hard);
  return (
    `the open-files limit is ${limit.soft} (hard ${hard}), too low for --max-connections ${maxConnections}: ` +
    `connections beyond ~${Math.max(0, limit.soft - SPARE_DESCRIPTORS)} will fail; raise it (ulimit -n, or LimitNOFILE= in systemd)`
  );
}
