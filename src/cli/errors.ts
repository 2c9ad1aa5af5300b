// The two kinds of failure the command reports in one line: a bad command line (exit 2) and a bad
// config file (exit 1; the message starts with FILE:LINE: KEY).

/** A usage error: the user typed something toxrelay does not accept (exit code 2). */
export class CliError extends Error {
  override name = 'CliError';
}

/** A config file that cannot be used: unreadable, malformed, or a bad value (exit code 1). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
