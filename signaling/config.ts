/**
 * `roommesh serve` settings: each has a flag and an environment variable (the flag wins),
 * a default, and a zod schema that checks it. The README's configuration table is tested
 * against SERVE_SETTINGS. Pure: no I/O beyond reading the files TLS names.
 */
import { z } from 'zod';
import { MIN_PAYLOAD_BYTES } from '../protocol/limits.js';
import { SERVER_DEFAULTS } from './defaults.js';

interface Setting<T> {
  /** The flag, without the leading dashes. */
  flag: string;
  env: string;
  help: string;
  schema: z.ZodType<T>;
  default?: T;
}

/** A whole number in [min, max], read from a flag or variable; its errors say so in those words, and what was given. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER, what = 'a whole number') => {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return z.preprocess(
    (raw) => (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw),
    z.number({ error: (issue) => `must be ${what} ${range}, not ${JSON.stringify(issue.input)}` }).int({ error: `must be ${what} ${range}` }).min(min, { error: `must be ${what} ${range}` }).max(max, { error: `must be ${what} ${range}` }),
  );
};
const text = z.coerce.string().min(1);
/** A flag given without a value (cac: true), or true/false/1/0 from the environment. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);
const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const iceServers = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. [{"urls":"turn:turn.example.org","username":"u","credential":"p"}]' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.object({ urls: z.union([z.string(), z.array(z.string())]), username: z.string().optional(), credential: z.string().optional() })));

/** `turn:…,turns:…,stun:…`: TURN (and STUN) URLs. */
const turnUrls = z
  .string()
  .transform((raw) => raw.split(',').map((url) => url.trim()).filter((url) => url.length > 0))
  .pipe(z.array(z.string().regex(/^(turns?|stuns?):[^\s]+$/, 'each URL must start with turn:, turns: or stun: (e.g. turn:turn.example.org:3478?transport=udp)')).min(1, 'name at least one URL'));

/** `https://a.example,http://b.example:8080`: origins, as browsers send them. */
const origins = z
  .string()
  .transform((raw) => raw.split(',').map((item) => item.trim().replace(/\/+$/, '')).filter((item) => item.length > 0))
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin is a scheme and a host, with a port if not the default (https://app.example.org, http://10.0.0.5:8787)')).min(1, 'name at least one origin'));

/** `host:port,host:port,…`: the nodes to ask first (Sentinels, or cluster nodes). */
const nodes = z
  .string()
  .transform((raw, ctx) => {
    const list = raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    const parsed = list.map((item) => /^(.+):(\d{1,5})$/.exec(item)).map((m) => (m === null ? undefined : { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[2]) }));
    if (list.length === 0 || parsed.some((n) => n === undefined || n.port < 1 || n.port > 65_535)) {
      ctx.addIssue({ code: 'custom', message: `must be host:port pairs separated by commas, e.g. 10.0.0.1:26379,10.0.0.2:26379 (got ${JSON.stringify(raw)})` });
      return z.NEVER;
    }
    return parsed as Array<{ host: string; port: number }>;
  });

export const SERVE_SETTINGS = {
  port: { flag: 'port', env: 'ROOMMESH_PORT', help: 'Port to listen on (0: any free port)', schema: int(0, 65_535, 'a port number (0: any free port)'), default: SERVER_DEFAULTS.port },
  host: { flag: 'host', env: 'ROOMMESH_HOST', help: 'Interface to listen on (0.0.0.0: every interface)', schema: text, default: SERVER_DEFAULTS.host },
  lan: { flag: 'lan', env: 'ROOMMESH_LAN', help: 'Listen on every interface and print the URL of each LAN address, with a QR code of the first', schema: flag, default: false },
  secret: { flag: 'secret', env: 'ROOMMESH_SECRET', help: 'Require join tokens signed with this secret, at least 32 bytes (as a flag it shows in ps: prefer the variable or --secret-file)', schema: text },
  secretFile: { flag: 'secret-file', env: 'ROOMMESH_SECRET_FILE', help: 'Or read that secret from this file', schema: text },
  issuerKey: { flag: 'issuer-key', env: 'ROOMMESH_ISSUER_KEY', help: 'Or (and) require join tokens signed by this issuer: its public key as a JWK, inline or in a file (roommesh keys)', schema: text },
  redis: { flag: 'redis', env: 'ROOMMESH_REDIS_URL', help: 'Share rooms with every process on this Redis (redis://host:6379)', schema: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL') },
  redisSentinel: { flag: 'redis-sentinel', env: 'ROOMMESH_REDIS_SENTINEL', help: 'Or: the Redis Sentinels to ask for the master (host:port,…), with --redis-master', schema: nodes },
  redisMaster: { flag: 'redis-master', env: 'ROOMMESH_REDIS_MASTER', help: 'The master name the Sentinels watch', schema: text },
  redisCluster: { flag: 'redis-cluster', env: 'ROOMMESH_REDIS_CLUSTER', help: 'Or: Redis Cluster nodes to start from (host:port,…); rooms spread over its shards', schema: nodes },
  redisPassword: { flag: 'redis-password', env: 'ROOMMESH_REDIS_PASSWORD', help: 'The password of the Sentinel-watched or cluster nodes', schema: text },
  metricsToken: { flag: 'metrics-token', env: 'ROOMMESH_METRICS_TOKEN', help: '/metrics answers only with Authorization: Bearer <this token>', schema: text },
  allowedOrigins: { flag: 'allowed-origins', env: 'ROOMMESH_ALLOWED_ORIGINS', help: 'Browser pages that may connect, by origin (https://app.example.org,…); the service\'s own page always may', schema: origins },
  logLevel: { flag: 'log-level', env: 'ROOMMESH_LOG_LEVEL', help: levels.join(', '), schema: z.enum(levels), default: 'info' },
  maxParticipants: { flag: 'max-participants', env: 'ROOMMESH_MAX_PARTICIPANTS', help: 'Participants a room admits (across every process)', schema: int(1), default: SERVER_DEFAULTS.maxParticipantsPerRoom },
  maxRooms: { flag: 'max-rooms', env: 'ROOMMESH_MAX_ROOMS', help: 'Rooms one process hosts', schema: int(1), default: SERVER_DEFAULTS.maxRooms },
  maxPayloadBytes: { flag: 'max-payload-bytes', env: 'ROOMMESH_MAX_PAYLOAD_BYTES', help: 'Largest signaling payload (relayed packets are sized to fit)', schema: int(MIN_PAYLOAD_BYTES), default: SERVER_DEFAULTS.maxPayloadBytes },
  signalsPerSecond: { flag: 'signals-per-second', env: 'ROOMMESH_SIGNALS_PER_SECOND', help: 'Packets each client may send per second', schema: int(1), default: SERVER_DEFAULTS.signalsPerSecond },
  signalsPerTarget: { flag: 'signals-per-target', env: 'ROOMMESH_SIGNALS_PER_TARGET', help: 'Signals each client may send per second to any one participant', schema: int(1), default: SERVER_DEFAULTS.signalsPerTargetPerSecond },
  enablesPerMinute: { flag: 'enables-per-minute', env: 'ROOMMESH_ENABLES_PER_MINUTE', help: 'Times a participant may turn messaging on per minute', schema: int(1), default: SERVER_DEFAULTS.enablesPerMinute },
  maxConnectionsPerAddress: { flag: 'max-connections-per-address', env: 'ROOMMESH_MAX_CONNECTIONS_PER_ADDRESS', help: 'Connections accepted from one client address at once', schema: int(1), default: SERVER_DEFAULTS.maxConnectionsPerAddress },
  trustProxy: { flag: 'trust-proxy', env: 'ROOMMESH_TRUST_PROXY', help: 'Count clients by the last X-Forwarded-For entry (behind one proxy that appends it)', schema: flag, default: SERVER_DEFAULTS.trustProxy },
  resumeGraceSeconds: { flag: 'resume-grace-seconds', env: 'ROOMMESH_RESUME_GRACE_SECONDS', help: 'A proven resume may present a join token expired this long ago', schema: int(0, 7 * 86_400), default: SERVER_DEFAULTS.resumeGraceSeconds },
  joinTimeoutMs: { flag: 'join-timeout-ms', env: 'ROOMMESH_JOIN_TIMEOUT_MS', help: 'Close connections that have not joined a room this long after connecting', schema: int(100, 600_000), default: SERVER_DEFAULTS.joinTimeoutMs },
  maxAttributes: { flag: 'max-attributes', env: 'ROOMMESH_MAX_ATTRIBUTES', help: 'Attributes one participant may have', schema: int(1, 10_000), default: SERVER_DEFAULTS.maxAttributes },
  maxAttributeBytes: { flag: 'max-attribute-bytes', env: 'ROOMMESH_MAX_ATTRIBUTE_BYTES', help: "A participant's attributes, in bytes of JSON", schema: int(256), default: SERVER_DEFAULTS.maxAttributeBytes },
  relayBytesPerSecond: { flag: 'relay-bytes-per-second', env: 'ROOMMESH_RELAY_BYTES_PER_SECOND', help: 'Bytes each client may relay per second', schema: int(1024), default: SERVER_DEFAULTS.relayBytesPerSecond },
  iceServers: { flag: 'ice-servers', env: 'ROOMMESH_ICE_SERVERS', help: 'ICE servers handed to clients, as JSON', schema: iceServers },
  turnSecret: { flag: 'turn-secret', env: 'ROOMMESH_TURN_SECRET', help: 'A secret shared with a TURN server (coturn: static-auth-secret): each participant gets its own time-limited credentials', schema: text },
  turnUrls: { flag: 'turn-urls', env: 'ROOMMESH_TURN_URLS', help: 'That TURN server\'s URLs, separated by commas (turn:host:3478?transport=udp,turn:host:3478?transport=tcp,turns:host:5349)', schema: turnUrls },
  turnTtlSeconds: { flag: 'turn-ttl-seconds', env: 'ROOMMESH_TURN_TTL_SECONDS', help: 'How long each participant\'s TURN credentials last (fresh ones are pushed before)', schema: int(60, 7 * 86_400), default: 3600 },
  drainTimeoutMs: { flag: 'drain-timeout-ms', env: 'ROOMMESH_DRAIN_TIMEOUT_MS', help: 'On SIGTERM, how long clients have to move before the rest are closed', schema: int(0, 600_000), default: 10_000 },
  tlsCert: { flag: 'tls-cert', env: 'ROOMMESH_TLS_CERT', help: 'Serve HTTPS/WSS with this PEM certificate file…', schema: text },
  tlsKey: { flag: 'tls-key', env: 'ROOMMESH_TLS_KEY', help: '…and this PEM private key file', schema: text },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SERVE_SETTINGS;
export type ServeConfig = {
  [K in keyof Settings]: Settings[K] extends { default: unknown } ? z.output<Settings[K]['schema']> : z.output<Settings[K]['schema']> | undefined;
};

/** cac's camelCase name of a flag. */
const flagKey = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Reads every setting from `flags` (as cac parsed them), else `env`, else its default; lists every problem at once. */
export function resolveServeConfig(flags: Record<string, unknown>, env: Record<string, string | undefined>): { ok: true; config: ServeConfig } | { ok: false; errors: string[] } {
  const config: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [key, setting] of Object.entries(SERVE_SETTINGS) as Array<[string, Setting<unknown>]>) {
    const fromFlag = flags[flagKey(setting.flag)];
    const raw = fromFlag ?? env[setting.env];
    if (raw === undefined || raw === '') {
      config[key] = setting.default;
      continue;
    }
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) config[key] = parsed.data;
    else errors.push(`${fromFlag === undefined ? setting.env : `--${setting.flag}`}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  if (config['lan'] === true && (flags['host'] ?? env['ROOMMESH_HOST']) !== undefined) errors.push('choose --lan (every interface) or --host, not both');
  if (config['lan'] === true) config['host'] = '0.0.0.0';
  if ((config['tlsCert'] === undefined) !== (config['tlsKey'] === undefined)) errors.push('--tls-cert and --tls-key go together');
  if ((config['redisSentinel'] === undefined) !== (config['redisMaster'] === undefined)) errors.push('--redis-sentinel and --redis-master go together');
  if ((config['turnSecret'] === undefined) !== (config['turnUrls'] === undefined)) errors.push('--turn-secret and --turn-urls go together');
  if ([config['redis'], config['redisSentinel'], config['redisCluster']].filter((v) => v !== undefined).length > 1) errors.push('choose one of --redis, --redis-sentinel and --redis-cluster');
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: config as ServeConfig };
}
