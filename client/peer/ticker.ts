/**
 * Shared periodic ticks: every stream's heartbeat (channel.ts) and every session's receipt
 * sweep (session.ts) run from one interval per period, not one interval each, so that the
 * links of a process tick (and send their pings) together. Staggered intervals woke the event
 * loop once per link per tick, and each wake-up costs more the more links a process holds
 * (node-datachannel checks every one of its native callbacks on each): 16 participants in one
 * process on node-datachannel (240 link ends) woke ~900 times a second and idled at 21 % of a
 * core, against 10 % for raw simple-peer channels pinging once a second from one timer
 * (docs/performance.md, "Idle cost"). Links on @roamhq/wrtc keep an interval each (`alone`:
 * rtc.ts, sharesTicks); the relay's streams and the sweeps share.
 */

/** One period's tick: every subscriber, with the time of the tick. */
type Tick = (now: number) => void;

interface Group {
  readonly ticks: Set<Tick>;
  readonly timer: ReturnType<typeof setInterval>;
  readonly clear: (timer: ReturnType<typeof setInterval>) => void;
}

// Keyed by the setInterval in force when a group was made too: a test's fake timers replace it,
// and their subscribers get a group of their own rather than joining a real interval.
const groups = new Map<typeof setInterval, Map<number, Group>>();

/**
 * Calls `tick` every `ms`, with the others of that period (or, `alone`, on an interval of its
 * own), until the returned function is called.
 */
export function every(ms: number, alone: boolean, tick: Tick): () => void {
  if (alone) {
    const timer = setInterval(() => tick(Date.now()), ms);
    return () => clearInterval(timer);
  }
  const schedule = globalThis.setInterval;
  let byPeriod = groups.get(schedule);
  if (byPeriod === undefined) groups.set(schedule, (byPeriod = new Map()));
  let group = byPeriod.get(ms);
  if (group === undefined) {
    const ticks = new Set<Tick>();
    // Called on globalThis: a browser's timer functions throw "Illegal invocation" on any other `this`.
    const timer = schedule.call(globalThis, () => {
      const now = Date.now();
      // A copy: a tick may stop itself or start another, which waits for the next round.
      for (const each of [...ticks]) {
        if (!ticks.has(each)) continue;
        try {
          each(now);
        } catch (error) {
          setTimeout(() => {
            throw error; // as an interval of its own would have: uncaught, and the others still tick
          }, 0);
        }
      }
    }, ms);
    const clear = globalThis.clearInterval;
    group = { ticks, timer, clear: (t) => clear.call(globalThis, t) };
    byPeriod.set(ms, group);
  }
  const joined = group;
  joined.ticks.add(tick);
  return () => {
    if (!joined.ticks.delete(tick) || joined.ticks.size > 0) return;
    joined.clear(joined.timer);
    byPeriod.delete(ms);
    if (byPeriod.size === 0) groups.delete(schedule);
  };
}
