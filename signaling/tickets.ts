/**
 * Resume tickets: the service's proof, to itself, that it admitted a participant. A join on
 * a service with a secret returns a ticket, an HMAC-SHA256 over the participant's id, its
 * room and the token it joined with, keyed by a key derived from the secret. Any process of
 * the deployment, restarted or not, can check one without stored state; a made-up credential
 * has no ticket, so `resume` cannot be used to join without a valid token.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The key tickets are signed with: derived from the service secret, never the secret itself. */
export const ticketKey = (secret: string | Uint8Array): Buffer => createHmac('sha256', secret).update('roommesh resume ticket v1').digest();

const mac = (key: Buffer, id: string, room: string, token: string): Buffer =>
  createHmac('sha256', key)
    .update(JSON.stringify(['v1', id, room, createHash('sha256').update(token).digest('base64url')]))
    .digest();

export const issueTicket = (key: Buffer, id: string, room: string, token: string): string => mac(key, id, room, token).toString('base64url');

export function checkTicket(key: Buffer, ticket: string | undefined, id: string, room: string, token: string): boolean {
  if (ticket === undefined) return false;
  const given = Buffer.from(ticket, 'base64url');
  const expected = mac(key, id, room, token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
