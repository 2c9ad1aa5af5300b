// The end of the current turn of the event loop, on any platform: the output batcher (output.ts)
// sends each session's frames there. Node: setImmediate, which runs once the I/O callbacks of this
// loop iteration are done, so data from many sockets is batched. A browser has no setImmediate:
// a MessageChannel message is the next macrotask without setTimeout's clamping, and it lets the
// page render between turns (a microtask would not). setTimeout(0) is the last resort.

export type Schedule = (callback: () => void) => void;

interface TurnGlobals {
  setImmediate?: (callback: () => void) => unknown;
  MessageChannel?: typeof MessageChannel;
  setTimeout: (callback: () => void, ms: number) => unknown;
}

/** Returns a function that runs a callback at the end of the current turn (exported for tests). */
export function endOfTurnScheduler(env: TurnGlobals = globalThis as unknown as TurnGlobals): Schedule {
  const setImmediate = env.setImmediate;
  if (typeof setImmediate === 'function') return (callback) => void setImmediate(callback);
  const Channel = env.MessageChannel;
  if (typeof Channel === 'function') {
    const queue: (() => void)[] = [];
    const channel = new Channel();
    channel.port1.onmessage = () => queue.shift()?.();
    return (callback) => {
      queue.push(callback);
      channel.port2.postMessage(null);
    };
  }
  const setTimeout = env.setTimeout;
  return (callback) => void setTimeout(callback, 0);
}

export const atEndOfTurn: Schedule = endOfTurnScheduler();
