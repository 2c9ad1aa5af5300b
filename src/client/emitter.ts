// A minimal typed event emitter: the client core may not import node:events (it also runs in
// browsers), and EventTarget would wrap every payload in an Event object.
// Listeners are kept as arrays replaced on every change, never changed in place: emit() loops
// over the array it found, so a listener that removes itself (as waitFor does) disturbs nothing,
// and the per-packet emit copies nothing.

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, readonly Listener<never>[]>();

  /** Adds a listener (once: adding it again changes nothing); returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const current = this.listeners.get(name) ?? [];
    if (!current.includes(listener)) this.listeners.set(name, [...current, listener]);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const current = this.listeners.get(name);
    if (!current?.includes(listener)) return;
    if (current.length === 1) this.listeners.delete(name);
    else this.listeners.set(name, current.filter((l) => l !== listener));
  }

  /** True when some listener waits for `name`: lets a caller skip building an event nobody takes. */
  has(name: keyof Events): boolean {
    return this.listeners.has(name);
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const list = this.listeners.get(name);
    if (!list) return;
    for (let i = 0; i < list.length; i++) (list[i] as Listener<Events[K]>)(event);
  }
}
