/**
 * The `roommesh` command as an operator meets it: mistakes get messages that say what to do
 * (an unknown command, a setting that is not a number, a port in use), and `token --help`
 * marks what it requires. Runs the built command (dist/), as `npx roommesh` does.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { captureLogger, joinAll, newRoom, startServer, withTimeout } from '../helpers.js';

function roommesh(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['dist/signaling/cli.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return withTimeout(new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))), 10_000, `roommesh ${args.join(' ')}`);
}

describe('the roommesh command', () => {
  it('says an unknown command is unknown, and names the commands', async () => {
    const { code, stderr } = await roommesh(['bogus']);
    expect(code).toBe(1);
    expect(stderr).toBe('roommesh: unknown command "bogus"; the commands are serve and token (roommesh --help)\n');
  });

  it('says what a port is, from the flag or the variable, and names the setting', async () => {
    const flag = await roommesh(['serve', '--port', 'abc']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('--port: must be a port number (0: any free port) from 0 to 65535, not "abc"');
    const variable = await roommesh(['serve'], { ROOMMESH_PORT: '99999' });
    expect(variable.stderr).toContain('ROOMMESH_PORT: must be a port number (0: any free port) from 0 to 65535');
    expect((await roommesh(['serve', '--max-rooms', '0'])).stderr).toContain('--max-rooms: must be a whole number of at least 1');
  });

  it('says a port in use is in use, and how to pick another', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const { code, stderr } = await roommesh(['serve', '--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toContain(`roommesh: port ${port} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('--port or ROOMMESH_PORT (0 picks a free one)');
    } finally {
      taken.close();
    }
  });

  it('marks what `token` requires', async () => {
    const { stdout } = await roommesh(['token', '--help']);
    expect(stdout).toContain('$ roommesh token --secret <secret> --room <room> --name <name> [options]');
    expect(stdout.match(/Required:/g)).toHaveLength(3);
  });

  it('a client presenting a token to a service without a secret is warned that it was not checked', async () => {
    const { url } = await startServer();
    const logger = captureLogger();
    const alice = newRoom(url, 'r', 'alice', { token: 'a.b.c', logger });
    await joinAll(alice);
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toContain(
      'this service runs without a secret: your token was not checked, and anyone who reaches it may join under any name',
    );
  });
});
