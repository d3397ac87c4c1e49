import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { turnCredentials } from '../../signaling/turn-credentials.js';

describe('TURN credentials from a shared secret (the scheme coturn checks with use-auth-secret)', () => {
  it('names the expiry and the participant, signed with HMAC-SHA1 of the user name, in base64', () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const server = turnCredentials({ secret: 's3cret', urls: ['turn:198.18.0.10:3478?transport=udp'], ttlSeconds: 600 }, 'participant-1', now);
    expect(server).toEqual({
      urls: ['turn:198.18.0.10:3478?transport=udp'],
      username: `${now / 1000 + 600}:participant-1`,
      credential: createHmac('sha1', 's3cret').update(`${now / 1000 + 600}:participant-1`).digest('base64'),
    });
    // A vector computed once by hand (HMAC-SHA1 of "1796644800:alice" under "secret"), so a change of scheme fails here.
    expect(turnCredentials({ secret: 'secret', urls: [], ttlSeconds: 0 }, 'alice', 1796644800_000).credential).toBe('ZV0agrqioHoGj5KvyYlIj0R3LE0=');
  });
});
