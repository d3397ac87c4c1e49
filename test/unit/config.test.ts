import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveServeConfig, SERVE_SETTINGS } from '../../signaling/config.js';

describe('serve settings', () => {
  it('takes a flag over its environment variable over its default', () => {
    const resolved = resolveServeConfig({ port: 9000 }, { ROOMMESH_PORT: '7000', ROOMMESH_HOST: '0.0.0.0', ROOMMESH_REDIS_URL: 'redis://cache:6379' });
    expect(resolved.ok).toBe(true);
    if (!resolved.ok) return;
    expect(resolved.config).toMatchObject({ port: 9000, host: '0.0.0.0', redis: 'redis://cache:6379', maxParticipants: 50, drainTimeoutMs: 10_000, logLevel: 'info' });
    expect(resolved.config.secret).toBeUndefined();
  });

  it('parses ICE servers from JSON, and names every bad setting at once', () => {
    const ice = resolveServeConfig({}, { ROOMMESH_ICE_SERVERS: '[{"urls":"turn:t.example:3478","username":"u","credential":"c"}]' });
    expect(ice.ok && ice.config.iceServers).toEqual([{ urls: 'turn:t.example:3478', username: 'u', credential: 'c' }]);
    const bad = resolveServeConfig(
      { maxParticipants: 0, logLevel: 'loud', tlsCert: 'cert.pem' },
      { ROOMMESH_PORT: '70000', ROOMMESH_REDIS_URL: 'http://nope', ROOMMESH_ICE_SERVERS: '[oops' },
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => e.split(':')[0])).toEqual([
      'ROOMMESH_PORT',
      'ROOMMESH_REDIS_URL',
      '--log-level',
      '--max-participants',
      'ROOMMESH_ICE_SERVERS',
      '--tls-cert and --tls-key go together',
    ]);
  });

  it('is listed in the README exactly as SERVE_SETTINGS has it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `--([a-z-]+)` \| `(ROOMMESH_[A-Z_]+)` \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.values(SERVE_SETTINGS).map((s) => [s.flag, s.env]));
  });
});
