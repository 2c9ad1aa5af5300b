// A small levelled logger: one line per message on stderr (errors/warnings) or stdout (the rest).
// Per-connection events are logged only at debug, so the relay path costs nothing at info.

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  level: LogLevel;
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** True when debug lines are written, so callers can skip building debug strings. */
  readonly debugEnabled: boolean;
}

interface Sink {
  write(line: string): unknown;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(
  level: LogLevel,
  out: Sink = process.stdout,
  err: Sink = process.stderr,
): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (lvl: LogLevel) => LOG_LEVELS.indexOf(lvl) <= rank;
  const stamp = () => new Date().toISOString();
  return {
    level,
    debugEnabled: at('debug'),
    error: (m) => { if (at('error')) err.write(`${stamp()} error ${m}\n`); },
    warn: (m) => { if (at('warn')) err.write(`${stamp()} warn  ${m}\n`); },
    info: (m) => { if (at('info')) out.write(`${stamp()} info  ${m}\n`); },
    debug: (m) => { if (at('debug')) out.write(`${stamp()} debug ${m}\n`); },
  };
}

export const silentLogger: Logger = createLogger('silent');
