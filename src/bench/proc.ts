// Figures read from Linux's /proc: a process's memory and CPU time, the calling thread's CPU time,
// and the whole machine's busy time. Each returns undefined where /proc does not have it.

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU fields (sysconf(_SC_CLK_TCK), 100 on every Linux port). */
const CLK_TCK = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields of a /proc stat line after the `(comm)`, so that field 3 (state) is index 0. */
function statFields(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  return text.slice(close + 2).trim().split(/\s+/);
}

/** utime + stime of a stat file, in seconds. */
function statCpuSeconds(path: string): number | undefined {
  const f = statFields(read(path));
  if (!f || f.length < 13) return undefined;
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** The calling thread's CPU time (fs calls made synchronously run on the calling thread). */
export function threadCpuSeconds(): number | undefined {
  return statCpuSeconds('/proc/thread-self/stat');
}

/** This process's CPU time, all threads. */
export function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Another process's CPU time (all its threads). */
export function pidCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

export interface MemoryStatus {
  /** VmRSS: resident memory, KiB. */
  rssKiB: number;
  /** RssAnon: the anonymous (heap) part of it, KiB, where the kernel reports it. */
  anonKiB?: number;
}

export function pidMemory(pid: number): MemoryStatus | undefined {
  const text = read(`/proc/${pid}/status`);
  if (!text) return undefined;
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rssKiB = field('VmRSS');
  if (rssKiB === undefined) return undefined;
  const anonKiB = field('RssAnon');
  return anonKiB === undefined ? { rssKiB } : { rssKiB, anonKiB };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The machine's CPU time so far, in ticks: busy (not idle, not iowait) and total. */
export interface SystemCpu {
  busy: number;
  total: number;
}

export function systemCpu(): SystemCpu | undefined {
  const line = read('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const v = line.slice(4).trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** The machine's busy share between two samples, less `excludedCpuS` seconds of CPU known not to be work. */
export function busyShare(a: SystemCpu | undefined, b: SystemCpu | undefined, excludedCpuS = 0): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return Math.max(0, b.busy - a.busy - excludedCpuS * CLK_TCK) / (b.total - a.total);
}

/** The MTU of the loopback interface (PROTOCOL §13: 65536 can wedge tox-bootstrapd under bursts). */
export function loopbackMtu(): number | undefined {
  const text = read('/sys/class/net/lo/mtu');
  return text ? Number(text.trim()) : undefined;
}
