// A logger that writes nothing. Its own file, importing only types, so that platform-neutral code
// (the in-page relay) can use it without loading log.ts's pino and its use of `process`.

import type { Logger } from './log.ts';

export const silentLogger: Logger = {
  level: 'silent',
  debugEnabled: false,
  error() {},
  warn() {},
  info() {},
  debug() {},
};
