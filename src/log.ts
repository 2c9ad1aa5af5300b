// The relay's levelled logger, on pino. Two formats, picked by where stdout goes:
//   json   (stdout not a TTY: systemd, Docker, CI, tests) one pino JSON object per line,
//          {"level":"info","time":"2026-…Z","name":"toxrelay","msg":"…"};
//   pretty (stdout a TTY) the same records as readable lines, `2026-…Z info  msg`, formatted here
//          rather than by pino-pretty, which would be a second dependency with a worker thread.
// Errors and warnings go to stderr, info and debug to stdout, in both formats: a clean run leaves
// stderr empty, and journald and Docker collect both streams anyway.
// Per-connection events are logged only at debug, so the relay path costs nothing at info.
import pino from 'pino';

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  /** Set on a terminal (process.stdout on a TTY): the default format is then `pretty`. */
  readonly isTTY?: boolean;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** `pretty` when `out` is a terminal, `json` otherwise. */
export function defaultLogFormat(out: Sink): LogFormat {
  return out.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(
  level: LogLevel,
  out: Sink = process.stdout,
  err: Sink = process.stderr,
  format: LogFormat = defaultLogFormat(out),
): Logger {
  const toOut = format === 'json' ? out : prettySink(out);
  const toErr = format === 'json' ? err : prettySink(err);
  // dedupe: each record goes only to the stream with the highest level at or below its own.
  const streams = pino.multistream(
    [
      { level: 'debug', stream: toOut },
      { level: 'warn', stream: toErr },
    ],
    { dedupe: true },
  );
  const log = pino(
    {
      name: 'toxrelay',
      level,
      base: undefined, // no pid or hostname: the supervisor records those
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    streams,
  );
  // One argument each: pino applies printf-style formatting only when there are more, so a `%`
  // in a message is printed as is.
  return {
    level,
    debugEnabled: log.isLevelEnabled('debug'),
    error: (m) => log.error(m),
    warn: (m) => log.warn(m),
    info: (m) => log.info(m),
    debug: (m) => log.debug(m),
  };
}

/** Turns pino's JSON lines into `TIME LEVEL msg` lines on `sink` (the level padded to 5). */
function prettySink(sink: Sink): { write(line: string): void } {
  return {
    write(line: string) {
      const record = JSON.parse(line) as { time?: string; level?: string; msg?: string };
      sink.write(`${record.time} ${String(record.level).padEnd(5)} ${record.msg}\n`);
    },
  };
}

/** Writes nothing, for tests and embedders (platform-neutral: see silent-logger.ts). */
export { silentLogger } from './silent-logger.ts';
