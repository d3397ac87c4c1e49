#!/usr/bin/env node
/** The `roommesh` command: `roommesh serve [--port] [--host]`. */
import { cac } from 'cac';
import { readFileSync } from 'node:fs';
import { createToken } from './auth.js';
import { createSignalingServer, SERVER_DEFAULTS } from './server.js';

const secretFrom = (flag: string | undefined): string | undefined => flag ?? process.env['ROOMMESH_SECRET'];

const cli = cac('roommesh');

cli
  .command('serve', 'Run the signaling service and its page at /')
  .option('--port <port>', 'Port to listen on (0: any free port)', { default: SERVER_DEFAULTS.port })
  .option('--host <host>', 'Interface to listen on (0.0.0.0: every interface)', { default: SERVER_DEFAULTS.host })
  .option('--max-participants <n>', 'Participants a room admits', { default: SERVER_DEFAULTS.maxParticipantsPerRoom })
  .option('--secret <secret>', 'Require join tokens signed with this secret (or set ROOMMESH_SECRET)')
  .option('--tls-cert <file>', 'Serve HTTPS/WSS with this PEM certificate…')
  .option('--tls-key <file>', '…and this PEM private key')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', { default: 'info' })
  .action(async (flags: { port: string | number; host: string; maxParticipants: string | number; logLevel: string; secret?: string; tlsCert?: string; tlsKey?: string }) => {
    const port = Number(flags.port);
    const maxParticipantsPerRoom = Number(flags.maxParticipants);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0 to 65535, not ${flags.port}`);
    if (!Number.isInteger(maxParticipantsPerRoom) || maxParticipantsPerRoom < 1) throw new Error('--max-participants must be a positive integer');
    if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
    const secret = secretFrom(flags.secret);
    const server = await createSignalingServer({
      port,
      host: String(flags.host),
      maxParticipantsPerRoom,
      logLevel: flags.logLevel as 'info',
      ...(secret === undefined ? {} : { secret }),
      ...(flags.tlsCert === undefined || flags.tlsKey === undefined
        ? {}
        : { tls: { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) } }),
    });
    process.stdout.write(`roommesh signaling service on ${server.url}\n`);
    const stop = (): void => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

cli
  .command('token', 'Print a join token for a service started with --secret')
  .option('--secret <secret>', 'The service secret (or set ROOMMESH_SECRET)')
  .option('--room <room>', 'Room the token admits to')
  .option('--name <name>', 'Participant name')
  .option('--role <role>', 'Participant role', { default: 'participant' })
  .option('--attribute <key=json>', 'An attribute (repeatable); the value is JSON, or a plain string')
  .option('--ttl <seconds>', 'Lifetime in seconds', { default: 3600 })
  .action(async (flags: { secret?: string; room?: string; name?: string; role: string; attribute?: string | string[]; ttl: string | number }) => {
    const secret = secretFrom(flags.secret);
    if (secret === undefined || flags.room === undefined || flags.name === undefined) {
      throw new Error('token needs --secret (or ROOMMESH_SECRET), --room and --name');
    }
    const ttl = Number(flags.ttl);
    if (!Number.isInteger(ttl) || ttl < 1) throw new Error('--ttl must be a positive number of seconds');
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
    const token = await createToken({ secret, room: String(flags.room), name: String(flags.name), role: flags.role, attributes, expiresIn: ttl });
    process.stdout.write(`${token}\n`);
  });

cli.help();
cli.version('0.1.0');

try {
  cli.parse(process.argv, { run: false });
  if (cli.options['help'] === true || cli.options['version'] === true) {
    // cac printed it already
  } else if (cli.matchedCommand === undefined) {
    cli.outputHelp();
    process.exitCode = cli.args.length === 0 && process.argv.length <= 2 ? 0 : 1;
  } else {
    await cli.runMatchedCommand();
  }
} catch (error) {
  process.stderr.write(`roommesh: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
