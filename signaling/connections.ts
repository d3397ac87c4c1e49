/**
 * Connections per client address, so that one machine cannot take every connection (and
 * every room: a connection can hold one) of the service. The address is the socket's peer;
 * behind a proxy that appends `X-Forwarded-For`, and only when the operator says so
 * (`trustProxy`), it is that header's last entry: the one the proxy itself wrote. An IPv6
 * client counts by its /64: one host is routinely given a whole /64, and picks a new address
 * in it at will. Also who else may use the service: browser pages by origin, /metrics by
 * bearer token. Pure.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIPv6 } from 'node:net';

/** The client's address: the TCP peer, or with `trustProxy` the last X-Forwarded-For entry. */
export function clientAddress(remote: string, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor !== undefined) {
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    const last = header.split(',').map((part) => part.trim()).filter((part) => part.length > 0).pop();
    if (last !== undefined && last.length <= 64) return normalize(last);
  }
  return normalize(remote);
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
const normalize = (address: string): string => (address.startsWith('::ffff:') ? address.slice(7) : address);

/** Whether a browser page of `origin` may connect: no Origin (not a browser), the service's own (`host`), or one listed. */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (host !== undefined && parsed.host === host) return true;
  return allowed.some((entry) => entry.replace(/\/+$/, '') === parsed.origin);
}

/** Whether a request for /metrics may have them: no token set, or `Authorization: Bearer <token>`, compared in constant time. */
export function metricsAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** What connections are counted by: an IPv4 address as it is, an IPv6 address by its /64 (`2001:db8:0:1::/64`). */
export function countedAs(address: string): string {
  const bare = address.replace(/%.*$/, ''); // a zone (fe80::1%eth0)
  if (!isIPv6(bare)) return address;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

export class ConnectionsPerAddress {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts a new connection from `address` (by countedAs); false (and not counted) when it has `max` already. */
  open(address: string): boolean {
    const key = countedAs(address);
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  close(address: string): void {
    const key = countedAs(address);
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
  }

  count(address: string): number {
    return this.counts.get(countedAs(address)) ?? 0;
  }

  /** Addresses with at least one connection. */
  get addresses(): number {
    return this.counts.size;
  }
}
