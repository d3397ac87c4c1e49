/**
 * Time-limited TURN credentials from a secret shared with the TURN server: the "TURN REST API"
 * scheme coturn serves with `use-auth-secret` / `static-auth-secret`. The user name is the expiry
 * (Unix seconds) and a label, the password the base64 HMAC-SHA1 of the user name under the
 * secret; the TURN server checks both without asking anyone. Pure.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../protocol/signaling.js';

export interface TurnSettings {
  secret: string;
  urls: string[];
  ttlSeconds: number;
}

/** ICE servers for one participant: `urls` with credentials valid for `ttlSeconds` from `nowMs`. */
export function turnCredentials(settings: TurnSettings, label: string, nowMs = Date.now()): IceServer {
  const username = `${Math.floor(nowMs / 1000) + settings.ttlSeconds}:${label}`;
  const credential = createHmac('sha1', settings.secret).update(username).digest('base64');
  return { urls: settings.urls, username, credential };
}
