/**
 * `roommesh serve --lan`: the addresses a phone on the same network can open, and the banner
 * that prints them (with a QR code of the first, from uqr), the way dev servers print their
 * "Network:" lines. The banner is pure; only lanAddresses() reads the machine.
 */
import { networkInterfaces } from 'node:os';
import { renderUnicodeCompact } from 'uqr';

/** This machine's IPv4 addresses that other hosts can reach: not loopback, not link-local (169.254/16). */
export function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((entry) => entry.family === 'IPv4' && !entry.internal && !entry.address.startsWith('169.254.'))
    .map((entry) => entry.address);
}

/** The lines `--lan` prints below the service's first line: one URL per address, a QR code of the first, and what works on plain http. */
export function lanBanner(serviceUrl: string, addresses: readonly string[]): string {
  const { protocol, port } = new URL(serviceUrl);
  const urls = addresses.map((address) => `${protocol}//${address}:${port}/`);
  const first = urls[0];
  if (first === undefined) return '  Network: no LAN address found (is this machine on a network?)\n';
  const secure = protocol === 'https:';
  return [
    ...urls.map((url) => `  Network: ${url}`),
    '',
    renderUnicodeCompact(first, { border: 1 }),
    '',
    `  Scan to open ${first} on a phone on this network.`,
    secure
      ? '  Pages are a secure context (https): direct links and the relay work; phones must trust the certificate.'
      : '  Plain http: pages link to each other directly; see "Rooms on a LAN" in the README for what needs https.',
    '',
  ].join('\n');
}
