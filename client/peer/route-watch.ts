/**
 * Reads a direct link's selected candidate pair now and then (its route: candidate types,
 * protocol, round trip), so that `participant.path` answers "how is this participant connected?"
 * and a change of pair within a direct link is seen. A reading is a stats call into the stack,
 * so it is spaced out; the first comes at once.
 */
import type { Route } from '../participant.js';
import type { PeerLink } from './link.js';

/** How often a direct link's route is read. */
export const ROUTE_READ_MS = 2_000;

/** Starts reading `link`'s route, reporting each reading; returns the function that stops it. */
export function watchRoute(link: PeerLink, report: (route: Route) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const read = (): void => {
    void link.selectedRoute().then(
      (route) => {
        if (stopped) return;
        if (route !== undefined) report(route);
        timer = setTimeout(read, ROUTE_READ_MS);
        (timer as { unref?: () => void }).unref?.();
      },
      () => undefined, // the connection closed under the call: the link's own events say so
    );
  };
  read();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
