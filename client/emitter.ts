/**
 * A small typed event emitter that runs in Node and browsers alike. `on()` returns the
 * function that removes the listener. A listener that throws does not disturb the
 * emitter or the other listeners: its error is rethrown on a fresh task, where it
 * surfaces as an uncaught exception exactly as a throwing EventEmitter listener would.
 */
export type EventMap<Events> = { [E in keyof Events]: (...args: any[]) => void };

export class TypedEmitter<Events extends EventMap<Events>> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const off = this.on(event, ((...args: Parameters<Events[E]>) => {
      off();
      listener(...args);
    }) as Events[E]);
    return off;
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.listeners.get(event)?.delete(listener);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  /** Whether anyone listens to `event`. */
  protected hasListeners(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
