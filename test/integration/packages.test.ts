/**
 * What users install: the two packages packed as npm would publish them, installed into empty
 * projects. A browser app's `npm install roommesh` is one package under 5 MB; without a Node
 * WebRTC stack, enable() says which to install; `roommesh/signaling` names its new home; the
 * service package runs `roommesh serve` with the demo page and the bundle; the packed types
 * compile under strict settings.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, withTimeout } from '../helpers.js';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, timeout: 120_000 });

let dir = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roommesh-packages-'));
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '-w', 'client', '-w', 'signaling'], { timeout: 60_000 });
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A new empty project with these tarballs installed. */
async function project(name: string, ...tarballs: string[]): Promise<string> {
  const at = join(dir, name);
  mkdirSync(at);
  writeFileSync(join(at, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  await npm(['install', ...tarballs.map((t) => join(dir, t))], at);
  return at;
}

/** The packages installed (folders holding a package.json directly under node_modules, scoped ones included) and their bytes. */
function installed(at: string): { packages: string[]; bytes: number } {
  const modules = join(at, 'node_modules');
  const packages = readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name]));
  const size = (path: string): number => {
    const stat = statSync(path);
    return stat.isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + size(join(path, entry)), 0) : stat.size;
  };
  return { packages, bytes: size(modules) };
}

const node = (cwd: string, code: string) => run(process.execPath, ['--input-type=module', '-e', code], { cwd, timeout: 30_000 });

describe('the packed packages, installed into empty projects', () => {
  it('roommesh alone: one package under 5 MB; in Node without a stack, enable() names the command to run', async () => {
    const app = await project('app', 'roommesh-0.1.0.tgz');
    const { packages, bytes } = installed(app);
    expect(packages).toEqual(['roommesh']);
    expect(bytes).toBeLessThan(5_000_000); // 3.0 MB on 2026-12-07, two thirds of it source maps; 3.28 MB with delivery modes; 3.83 MB with stream bindings (the noble libraries' source maps); 4.73 MB with the pure-JS relay (@noble/curves' sources in both maps)
    const { url } = await startServer();
    const { stdout } = await node(
      app,
      `import { RoomClient, RoomError } from 'roommesh';
       const room = new RoomClient({ url: ${JSON.stringify(url)}, room: 'r', name: 'x', iceServers: [] });
       await room.start();
       const error = await room.messaging.enable().then(() => undefined, (e) => e);
       await room.close();
       console.log(JSON.stringify({ isRoomError: error instanceof RoomError, code: error?.code, message: error?.message }));`,
    );
    expect(JSON.parse(stdout)).toEqual({
      isRoomError: true,
      code: 'RTC_UNAVAILABLE',
      message: 'no WebRTC stack for Node is installed: run `npm install @roamhq/wrtc` (or `npm install node-datachannel`), or pass one as the `rtc` option',
    });
    const moved = await node(app, `await import('roommesh/signaling').catch((e) => console.log(e.message));`);
    expect(moved.stdout).toContain('roommesh/signaling moved to its own package: run `npm install roommesh-server`');
  });

  it('roommesh-server: the command serves the demo page and the bundle; roommesh/signaling still works beside it', async () => {
    const service = await project('service', 'roommesh-server-0.1.0.tgz', 'roommesh-0.1.0.tgz');
    expect(installed(service).packages).not.toContain('@roamhq/wrtc');
    const { stdout } = await node(
      service,
      `import { createSignalingServer, createToken } from 'roommesh-server';
       import * as moved from 'roommesh/signaling';
       const server = await createSignalingServer({ port: 0, logLevel: 'silent' });
       const page = await fetch(server.url + '/');
       const bundle = await fetch(server.url + '/roommesh.js');
       const token = await createToken({ secret: 'x'.repeat(32), room: 'r', name: 'a' });
       console.log(JSON.stringify({ page: page.status, bundle: bundle.status, type: bundle.headers.get('content-type'), token: token.split('.').length, moved: moved.createSignalingServer === createSignalingServer }));
       await server.close();`,
    );
    expect(JSON.parse(stdout)).toEqual({ page: 200, bundle: 200, type: 'text/javascript; charset=utf-8', token: 3, moved: true });
    const help = await run(join(service, 'node_modules/.bin/roommesh'), ['--help'], { timeout: 10_000 });
    expect(help.stdout).toContain('serve');
  });

  it('the systemd unit in deploy/ starts the installed service with its ExecStart, and stops it cleanly on SIGTERM', async () => {
    const opt = await project('opt-roommesh', 'roommesh-server-0.1.0.tgz', 'roommesh-0.1.0.tgz');
    const unit = readFileSync('deploy/roommesh.service', 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? '';
    const [command, ...args] = execStart.replaceAll('/opt/roommesh', opt).split(' ');
    expect(command).toBe('/usr/bin/node');
    const environment = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect(environment).toEqual({ ROOMMESH_HOST: '0.0.0.0', ROOMMESH_PORT: '8787' });
    // As systemd would run it, but on loopback and a free port (nothing may leave the machine, no fixed ports).
    const child = spawn(process.execPath, args, { cwd: opt, env: { ...process.env, ...environment, ROOMMESH_HOST: '127.0.0.1', ROOMMESH_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await withTimeout(
      new Promise<string>((resolve) => child.stdout.on('data', (chunk: Buffer) => {
        const found = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString())?.[1];
        if (found !== undefined) resolve(found);
      })),
      15_000,
      'the unit\'s service to listen',
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM'); // systemd's KillSignal
    expect(await withTimeout(exited, 15_000, 'the service to exit on SIGTERM')).toBe(0);
  });

  it('the packed types compile under strict, noUncheckedIndexedAccess and exactOptionalPropertyTypes', async () => {
    const app = await project('typed', 'roommesh-0.1.0.tgz');
    writeFileSync(
      join(app, 'main.ts'),
      `import { RoomClient, RoomError, type ErrorCode } from 'roommesh';
       const room = new RoomClient<{ chat: { text: string } }>({ url: 'http://127.0.0.1:1', room: 'r', name: 'n', rtc: 'node-datachannel' });
       room.messaging.on('message', (m) => { const text: string = m.message.text; void text; });
       const code: ErrorCode = new RoomError('TIMEOUT', 'x').code;
       export { code };`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], noEmit: true, types: [] }, files: ['main.ts'] }),
    );
    await run(process.execPath, [join(process.cwd(), 'node_modules/typescript/bin/tsc'), '-p', app], { timeout: 60_000 });
  });
});
