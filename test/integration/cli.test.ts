/**
 * The `roommesh` command as an operator meets it: mistakes get messages that say what to do
 * (an unknown command, a setting that is not a number, a port in use), and `token --help`
 * marks what it requires. Runs the built command (signaling/dist/), as `npx roommesh` does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshIdentity } from '../../client/trust/identity.js';
import { verifyToken } from '../../signaling/auth.js';
import { lanAddresses } from '../../signaling/lan.js';
import { captureLogger, joinAll, newRoom, startServer, withTimeout } from '../helpers.js';

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** Starts a long-running command (a service), and resolves once its output matches `ready`; its output keeps accruing. */
async function launch(command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer): void => {
        output += chunk.toString();
        if (ready.test(output)) resolve();
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      void exited.then((code) => reject(new Error(`${command} exited with ${code}: ${output}`)));
    }),
    30_000,
    `${command} ${args.join(' ')} ready`,
  );
  return { child, output: () => output, exited };
}

/** Whether a process with this pid still runs. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function roommesh(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['signaling/dist/signaling/cli.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    expect(stderr).toBe('roommesh: unknown command "bogus"; the commands are serve, token and keys (roommesh --help)\n');
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

  it('suggests the flag a typo meant, reads a negative value as a value, and tells a name that does not resolve from a foreign address', async () => {
    expect((await roommesh(['serve', '--prot', '5'])).stderr).toBe('roommesh: unknown option --prot (did you mean --port?); `roommesh serve --help` lists them\n');
    expect((await roommesh(['serve', '--redis-pasword', 'x'])).stderr).toContain('(did you mean --redis-password?)');
    expect((await roommesh(['token', '--room', 'r', '--name', 'n', '--ttl', '-5'], { ROOMMESH_SECRET: 'x'.repeat(32) })).stderr).toBe('roommesh: --ttl must be a positive number of seconds\n');
    expect((await roommesh(['serve', '--port', '0', '--host', 'no-such-host.invalid'])).stderr).toContain('cannot listen on host no-such-host.invalid: the name does not resolve to an address');
    expect((await roommesh(['serve', '--port', '0', '--host', '198.18.255.254'])).stderr).toContain('cannot listen on host 198.18.255.254: it is not an address of this machine');
  });

  it('refuses a secret shorter than 32 bytes, for serve and for token, and warns of one passed as a flag (ps shows it)', async () => {
    const token = await roommesh(['token', '--secret', 'x', '--room', 'r', '--name', 'n']);
    expect(token.code).toBe(1);
    expect(token.stderr).toContain('roommesh: the secret is 1 byte long: anyone who guesses it can mint tokens for any room and name. Use at least 32 random bytes, e.g. `openssl rand -base64 32`\n');
    expect((await roommesh(['serve', '--port', '0'], { ROOMMESH_SECRET: 'short' })).stderr).toContain('roommesh: the secret is 5 bytes long');
    expect((await roommesh(['token', '--room', 'r', '--name', 'n'], { ROOMMESH_SECRET: 'x'.repeat(32) })).stderr).toBe('');
    expect((await roommesh(['token', '--secret', 'x'.repeat(32), '--room', 'r', '--name', 'n'])).stderr).toBe('roommesh: warning: --secret shows in `ps` to every user of this machine; prefer --secret-file or ROOMMESH_SECRET\n');
  });

  it('reads the secret from a file, makes issuer keys, signs tokens bound to an identity key with them, and serves with the issuer key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roommesh-cli-'));
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, `${'s'.repeat(40)}\n`);
    const fromFile = await roommesh(['token', '--secret-file', secretFile, '--room', 'r', '--name', 'n']);
    expect([fromFile.code, fromFile.stderr]).toEqual([0, '']);
    expect(await verifyToken('s'.repeat(40), fromFile.stdout.trim(), 'r')).toMatchObject({ name: 'n' });
    const keys = JSON.parse((await roommesh(['keys'])).stdout) as { signingKey: Record<string, string>; issuerKey: Record<string, string> };
    expect(keys.issuerKey).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(keys.issuerKey['d']).toBeUndefined();
    await writeFile(join(dir, 'signing.jwk'), JSON.stringify(keys.signingKey));
    const identity = freshIdentity();
    const hex = Buffer.from(identity.publicKey).toString('hex');
    const bound = await roommesh(['token', '--signing-key', join(dir, 'signing.jwk'), '--public-key', hex, '--room', 'r', '--name', 'ann']);
    expect(bound.stderr).toBe('');
    expect((await roommesh(['token', '--signing-key', join(dir, 'signing.jwk'), '--public-key', 'abc', '--room', 'r', '--name', 'ann'])).stderr).toContain('--public-key must be an identity key: 64 hex digits');
    const { output } = await launch(process.execPath, ['signaling/dist/signaling/cli.js', 'serve', '--port', '0', '--issuer-key', JSON.stringify(keys.issuerKey), '--log-level', 'warn'], /signaling service on (\S+)/);
    const url = /signaling service on (\S+)/.exec(output())?.[1] ?? '';
    const ann = newRoom(url, 'r', 'ann', { identity, token: bound.stdout.trim(), issuerKey: keys.issuerKey });
    await ann.start();
    expect(ann.localParticipant.name).toBe('ann');
    await ann.close();
    expect((await roommesh(['serve', '--port', '0', '--issuer-key', JSON.stringify(keys.signingKey)])).stderr).toContain('`issuerKey` must be an Ed25519 public key');
  });

  it('marks what `token` requires', async () => {
    const { stdout } = await roommesh(['token', '--help']);
    expect(stdout).toContain('$ roommesh token --secret-file <file> --room <room> --name <name> [options]');
    expect(stdout.match(/Required:/g)).toHaveLength(2);
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

  it('`serve --lan` listens on every interface and prints a URL for each LAN address, with a QR code of the first', async () => {
    const { child, output } = await launch(process.execPath, ['signaling/dist/signaling/cli.js', 'serve', '--lan', '--port', '0', '--log-level', 'warn'], /Network: .*\n[\s\S]*\n\n/);
    const port = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1];
    const addresses = lanAddresses();
    const printed = [...output().matchAll(/ {2}Network: (\S+)/g)].map((m) => m[1]);
    if (addresses.length === 0) {
      expect(output()).toContain('Network: no LAN address found');
    } else {
      expect(printed).toEqual(addresses.map((address) => `http://${address}:${port}/`));
      expect(output()).toMatch(/█▀▀▀▀▀▀▀█/); // a QR code's finder pattern, in block characters
      expect(output()).toContain(`Scan to open ${printed[0]} on a phone on this network.`);
      // It really listens there: the page answers on the first LAN address.
      expect((await fetch(printed[0] ?? '')).status).toBe(200);
    }
    child.kill('SIGTERM');
  });

  it('`--lan` and `--host` together are refused', async () => {
    const { code, stderr } = await roommesh(['serve', '--lan', '--host', '127.0.0.1']);
    expect(code).toBe(1);
    expect(stderr).toContain('choose --lan (every interface) or --host, not both');
  });

  // The commands docs/deploying.md names: a supervisor's SIGTERM to npm or npx must stop the service, not orphan it.
  for (const [label, command, args] of [
    ['npm start', 'npm', ['start', '--', '--port', '0']],
    ['npx roommesh serve', 'npx', ['roommesh', 'serve', '--port', '0']],
  ] as const) {
    it(`SIGTERM to \`${label}\` drains and stops the service`, async () => {
      const { child, output, exited } = await launch(command, [...args], /"msg":"running open/);
      const pid = Number(/"pid":(\d+)/.exec(output())?.[1]);
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1] ?? '';
      expect(pid).toBeGreaterThan(0);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      await withTimeout(exited, 10_000, `${label} exits`);
      await withTimeout(
        (async () => {
          while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
        })(),
        10_000,
        `the service process (pid ${pid}) exits`,
      );
      expect(output()).toMatch(/"msg":"signaling service closed"/);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    });
  }
});
