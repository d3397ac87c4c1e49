#!/usr/bin/env node
/** The `roommesh` command: `roommesh serve [--port …]` and `roommesh token …`. */
import { cac } from 'cac';
import { readFileSync } from 'node:fs';
import { nearestName } from '../protocol/suggest.js';
import { createToken, generateTokenKeys } from './auth.js';
import { readJwk, readSecret } from './key-files.js';
import { lanAddresses, lanBanner } from './lan.js';
import { resolveServeConfig, SERVE_SETTINGS } from './config.js';
import { createSignalingServer } from './server.js';

/** How often the service checks whether the process that started it is gone. */
const ORPHAN_CHECK_MS = 250;
const warn = (message: string): void => void process.stderr.write(`roommesh: warning: ${message}\n`);

/** Why the service could not listen, with what to do about it. */
function listenFailure(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use (another roommesh, or another program): choose another with --port or ROOMMESH_PORT (0 picks a free one)`;
  if (code === 'EACCES') return `not allowed to listen on port ${port} (ports below 1024 need privileges): choose another with --port or ROOMMESH_PORT`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on host ${host}: it is not an address of this machine (--host or ROOMMESH_HOST; 0.0.0.0 for every interface)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot listen on host ${host}: the name does not resolve to an address (--host or ROOMMESH_HOST takes an address or a name of this machine; 0.0.0.0 for every interface)`;
  return (error as Error).message;
}

/**
 * The arguments as cac should read them: a negative number after a flag that takes a value is
 * that flag's value (`--ttl -5`), not a flag of its own, so that the setting's own check can say
 * what is wrong with it.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    const previous = out.at(-1);
    if (/^-\d/.test(arg) && previous !== undefined && /^--[a-z][a-z-]*$/.test(previous)) out[out.length - 1] = `${previous}=${arg}`;
    else out.push(arg);
  }
  return out;
}

/** An unknown flag, with the nearest flag the command takes. */
function unknownFlag(message: string, command: string | undefined): string {
  const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`); // cac reports camelCase
  const reported = /^Unknown option `(-{1,2}[^`]+)`/.exec(message)?.[1];
  if (reported === undefined) return message;
  const flag = kebab(reported);
  const taken = cli.commands.find((c) => c.name === command)?.options.map((o) => `--${kebab(o.names[0] ?? '')}`) ?? [];
  const near = nearestName(flag, taken);
  return `unknown option ${flag}${near === undefined ? '' : ` (did you mean ${near}?)`}; \`roommesh ${command ?? ''} --help\` lists them`.replace('  ', ' ');
}

const cli = cac('roommesh');

const serve = cli.command('serve', 'Run the signaling service, its page at /, /healthz and /metrics');
for (const setting of Object.values(SERVE_SETTINGS)) {
  const fallback = 'default' in setting ? `, default ${String(setting.default)}` : '';
  const value = setting.schema === SERVE_SETTINGS.trustProxy.schema ? '' : ' <value>';
  serve.option(`--${setting.flag}${value}`, `${setting.help} (env ${setting.env}${fallback})`);
}
serve.action(async (flags: Record<string, unknown>) => {
  const resolved = resolveServeConfig(flags, process.env);
  if (!resolved.ok) throw new Error(`bad configuration:\n  ${resolved.errors.join('\n  ')}`);
  const config = resolved.config;
  const secret = readSecret({ secret: flags['secret'] === undefined ? undefined : String(flags['secret']), secretFile: config.secretFile }, process.env, warn);
  const issuerKey = config.issuerKey === undefined ? undefined : readJwk(config.issuerKey, '--issuer-key');
  const server = await createSignalingServer({
    port: config.port,
    host: config.host,
    maxParticipantsPerRoom: config.maxParticipants,
    maxRooms: config.maxRooms,
    maxPayloadBytes: config.maxPayloadBytes,
    signalsPerSecond: config.signalsPerSecond,
    signalBurst: config.signalsPerSecond * 2,
    signalsPerTargetPerSecond: config.signalsPerTarget,
    signalsPerTargetBurst: config.signalsPerTarget * 3,
    enablesPerMinute: config.enablesPerMinute,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    trustProxy: config.trustProxy,
    joinTimeoutMs: config.joinTimeoutMs,
    resumeGraceSeconds: config.resumeGraceSeconds,
    maxAttributes: config.maxAttributes,
    maxAttributeBytes: config.maxAttributeBytes,
    relayBytesPerSecond: config.relayBytesPerSecond,
    logLevel: config.logLevel,
    ...(secret === undefined ? {} : { secret }),
    ...(issuerKey === undefined ? {} : { issuerKey }),
    ...(config.metricsToken === undefined ? {} : { metricsToken: config.metricsToken }),
    ...(config.allowedOrigins === undefined ? {} : { allowedOrigins: config.allowedOrigins }),
    ...(config.redis === undefined ? {} : { redisUrl: config.redis }),
    ...(config.redisSentinel === undefined || config.redisMaster === undefined
      ? {}
      : { redis: { sentinel: { master: config.redisMaster, nodes: config.redisSentinel, ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }) } } }),
    ...(config.redisCluster === undefined ? {} : { redis: { cluster: { nodes: config.redisCluster, ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }) } } }),
    ...(config.iceServers === undefined ? {} : { iceServers: config.iceServers.map(({ urls, username, credential }) => ({ urls, ...(username === undefined ? {} : { username }), ...(credential === undefined ? {} : { credential }) })) }),
    ...(config.turnSecret === undefined || config.turnUrls === undefined ? {} : { turn: { secret: config.turnSecret, urls: config.turnUrls, ttlSeconds: config.turnTtlSeconds } }),
    ...(config.tlsCert === undefined || config.tlsKey === undefined ? {} : { tls: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } }),
  }).catch((error: unknown) => {
    throw new Error(listenFailure(error, config.host, config.port));
  });
  process.stdout.write(`roommesh signaling service on ${server.url}\n`);
  if (config.lan) process.stdout.write(lanBanner(server.url, lanAddresses()));
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(1); // a second signal: do not wait
    }
    stopping = true;
    clearInterval(orphanWatch);
    // Drain: clients are told to move and given drainTimeoutMs; past that (and a margin for Redis), exit regardless.
    setTimeout(() => process.exit(1), config.drainTimeoutMs + 5_000).unref();
    void server.close({ drainMs: signal === 'SIGTERM' ? config.drainTimeoutMs : 0 }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // `npm start` and `npx roommesh serve` run this under a shell that dies of the SIGTERM meant
  // for the service without passing it on: an orphaned service drains as if it had been sent it.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    process.stderr.write('roommesh: the process that started this service exited (npm or npx under a supervisor\'s SIGTERM): draining as on SIGTERM\n');
    stop('SIGTERM');
  }, ORPHAN_CHECK_MS);
  orphanWatch.unref();
});

cli
  .command('keys', 'Print a new Ed25519 key pair for signing tokens: { signingKey, issuerKey } as JWKs')
  .action(() => {
    process.stdout.write(`${JSON.stringify(generateTokenKeys(), null, 2)}\n`);
  });

cli
  .command('token', 'Print a join token for a service started with --secret or --issuer-key')
  .usage('token --secret-file <file> --room <room> --name <name> [options]')
  .option('--secret <secret>', 'The service secret (or --secret-file, or set ROOMMESH_SECRET)…')
  .option('--secret-file <file>', '…or read it from this file…')
  .option('--signing-key <jwk>', '…or sign with this issuer key (EdDSA): the signingKey of `roommesh keys`, inline or in a file')
  .option('--public-key <hex>', 'Bind the token to this identity key (identity.publicKey, 64 hex digits): only its holder may use it')
  .option('--room <room>', 'Required: the room the token admits to')
  .option('--name <name>', 'Required: the participant\'s name')
  .option('--role <role>', 'Participant role', { default: 'participant' })
  .option('--attribute <key=json>', 'An attribute (repeatable); the value is JSON, or a plain string')
  .option('--ttl <seconds>', 'Lifetime in seconds', { default: 3600 })
  .option('--shared <n>', 'Let up to n participants hold this token at once (default 1: a second join replaces the first)')
  .action(async (flags: { secret?: string; secretFile?: string; signingKey?: string; publicKey?: string; room?: string; name?: string; role: string; attribute?: string | string[]; ttl: string | number; shared?: string | number }) => {
    const signingKey = flags.signingKey === undefined ? undefined : readJwk(String(flags.signingKey), '--signing-key');
    const secret = signingKey === undefined ? readSecret({ secret: flags.secret, secretFile: flags.secretFile }, process.env, warn) : undefined;
    if ((secret === undefined && signingKey === undefined) || flags.room === undefined || flags.name === undefined) {
      throw new Error('token needs --secret-file, --secret or ROOMMESH_SECRET (or --signing-key), --room and --name');
    }
    const publicKey = flags.publicKey === undefined ? undefined : String(flags.publicKey);
    if (publicKey !== undefined && !/^[0-9a-f]{64}$/i.test(publicKey)) throw new Error('--public-key must be an identity key: 64 hex digits (32 bytes)');
    const ttl = Number(flags.ttl);
    if (!Number.isInteger(ttl) || ttl < 1) throw new Error('--ttl must be a positive number of seconds');
    const shared = flags.shared === undefined ? 1 : Number(flags.shared);
    if (!Number.isInteger(shared) || shared < 1) throw new Error('--shared must be a whole number of participants, at least 1');
    const attributes: Record<string, import('../protocol/json.js').JsonValue> = {};
    for (const pair of [flags.attribute ?? []].flat()) {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--attribute takes key=value, not ${pair}`);
      const raw = pair.slice(at + 1);
      try {
        attributes[pair.slice(0, at)] = JSON.parse(raw) as import('../protocol/json.js').JsonValue;
      } catch {
        attributes[pair.slice(0, at)] = raw;
      }
    }
    const token = await createToken({
      ...(signingKey !== undefined ? { signingKey } : secret !== undefined ? { secret } : {}),
      ...(publicKey === undefined ? {} : { publicKey: Uint8Array.from(Buffer.from(publicKey, 'hex')) }),
      room: String(flags.room),
      name: String(flags.name),
      role: flags.role,
      attributes,
      expiresIn: ttl,
      maxParticipants: shared,
    });
    process.stdout.write(`${token}\n`);
  });

cli.help();
cli.version('0.1.0');

try {
  cli.parse(joinNegativeValues(process.argv), { run: false });
  if (cli.options['help'] === true || cli.options['version'] === true) {
    // cac printed it already
  } else if (cli.matchedCommand === undefined && cli.args.length > 0) {
    process.stderr.write(`roommesh: unknown command "${cli.args[0] ?? ''}"; the commands are serve, token and keys (roommesh --help)\n`);
    process.exitCode = 1;
  } else if (cli.matchedCommand === undefined) {
    cli.outputHelp();
    process.exitCode = process.argv.length <= 2 ? 0 : 1;
  } else {
    await cli.runMatchedCommand();
  }
} catch (error) {
  process.stderr.write(`roommesh: ${unknownFlag((error as Error).message, cli.matchedCommandName ?? process.argv[2])}\n`);
  process.exitCode = 1;
}
