// Types of toxnet.mjs (plain JavaScript, so that scripts/interop.mjs runs under bare node).
import type { ChildProcess } from 'node:child_process';

export const HARNESS_SOURCE: string;
export const REPO_ROOT: string;
export const BOOTSTRAPD: string;
export const INSTALL_HINT: string;
export const PHASES: readonly string[];

export function sleep(ms: number): Promise<void>;

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function run(
  file: string,
  args: string[],
  timeout: number,
  options?: { cwd?: string; onStdout?: (text: string) => void },
): Promise<RunResult>;

export function missingToolchain(): string[];
export function buildHarness(dir: string): Promise<string>;
export function freeTcpPort(): Promise<number>;
export function freeUdpPort(): Promise<number>;
export function accepts(port: number, host?: string): Promise<boolean>;
export function stopChild(child: ChildProcess | undefined): Promise<void>;

export interface RelayProcess {
  name: string;
  host: string;
  port: number;
  udpPort?: number;
  publicKey: string;
  child: ChildProcess;
  output(): string;
  /** HOST:PORT:KEY, as toxharness --relay wants it. */
  spec(): string;
  stop(): Promise<void>;
}

export function startBootstrapd(dir: string): Promise<RelayProcess>;
export function startToxrelay(dir: string, options?: { logLevel?: string }): Promise<RelayProcess>;

export interface Phase {
  name: string;
  ok: boolean;
  /** NaN for a failed phase. */
  seconds: number;
  detail: string;
  line: string;
}

export function parsePhases(stdout: string): Phase[];

export interface HarnessOptions {
  hold?: number;
  fileMib?: number;
  timeoutScale?: number;
  /** The address the relay reaches the harness's DHT nodes at (default 127.0.0.1). */
  dhtHost?: string;
  verbose?: boolean;
  onStdout?: (text: string) => void;
}

export function harnessBoundMs(options?: HarnessOptions): number;

export interface HarnessRun extends RunResult {
  args: string[];
  wallSeconds: number;
  phases: Phase[];
}

export function runHarness(binary: string, spec: string, options?: HarnessOptions): Promise<HarnessRun>;
