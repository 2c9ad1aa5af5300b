/**
 * Resolves with the first SIGINT or SIGTERM. Its handlers are then removed, so that a second
 * signal gets the default action and ends the process at once (for a close() that hangs).
 */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
