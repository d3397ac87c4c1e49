/**
 * Connections per client address, so that one machine cannot take every connection (and
 * every room: a connection can hold one) of the service. The address is the socket's peer;
 * behind a proxy that appends `X-Forwarded-For`, and only when the operator says so
 * (`trustProxy`), it is that header's last entry: the one the proxy itself wrote. Pure.
 */

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

export class ConnectionsPerAddress {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts a new connection from `address`; false (and not counted) when the address has `max` already. */
  open(address: string): boolean {
    const count = this.counts.get(address) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(address, count + 1);
    return true;
  }

  close(address: string): void {
    const count = (this.counts.get(address) ?? 0) - 1;
    if (count > 0) this.counts.set(address, count);
    else this.counts.delete(address);
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  /** Addresses with at least one connection. */
  get addresses(): number {
    return this.counts.size;
  }
}
