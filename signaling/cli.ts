#!/usr/bin/env node
/** The `roommesh` command: `roommesh serve [--port] [--host]`. */
import { cac } from 'cac';
import { createSignalingServer, SERVER_DEFAULTS } from './server.js';

const cli = cac('roommesh');

cli
  .command('serve', 'Run the signaling service and its page at /')
  .option('--port <port>', 'Port to listen on (0: any free port)', { default: SERVER_DEFAULTS.port })
  .option('--host <host>', 'Interface to listen on (0.0.0.0: every interface)', { default: SERVER_DEFAULTS.host })
  .option('--max-participants <n>', 'Participants a room admits', { default: SERVER_DEFAULTS.maxParticipantsPerRoom })
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', { default: 'info' })
  .action(async (flags: { port: string | number; host: string; maxParticipants: string | number; logLevel: string }) => {
    const port = Number(flags.port);
    const maxParticipantsPerRoom = Number(flags.maxParticipants);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0 to 65535, not ${flags.port}`);
    if (!Number.isInteger(maxParticipantsPerRoom) || maxParticipantsPerRoom < 1) throw new Error('--max-participants must be a positive integer');
    const server = await createSignalingServer({
      port,
      host: String(flags.host),
      maxParticipantsPerRoom,
      logLevel: flags.logLevel as 'info',
    });
    process.stdout.write(`roommesh signaling service on ${server.url}\n`);
    const stop = (): void => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
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
