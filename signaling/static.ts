/**
 * The files the service serves over HTTP: the demo room page at `/` (demo/ in this package,
 * roommesh-server) and the browser bundle it loads, from the installed `roommesh` package, so the
 * page always runs the client installed beside the service. Both are found from this module,
 * whether it runs from source or from dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'roommesh-server') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('roommesh-server: cannot find the package root to serve the demo from');
    dir = parent;
  }
}

/** The folder of the `roommesh` package beside this one, or undefined when it is not installed. */
function clientRoot(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('roommesh/package.json'));
  } catch {
    return undefined;
  }
}

const root = packageRoot();
const client = clientRoot();
const bundle = (name: string): string | undefined => (client === undefined ? undefined : join(client, 'dist/browser', name));

/** Each served path and its file (undefined: the roommesh package is missing). */
const FILES: Record<string, { file: string | undefined; type: string }> = {
  '/': { file: join(root, 'demo/index.html'), type: 'text/html; charset=utf-8' },
  '/demo.js': { file: join(root, 'demo/demo.js'), type: 'text/javascript; charset=utf-8' },
  '/demo.css': { file: join(root, 'demo/demo.css'), type: 'text/css; charset=utf-8' },
  '/mesh.js': { file: join(root, 'demo/mesh.js'), type: 'text/javascript; charset=utf-8' },
  '/cursors.js': { file: join(root, 'demo/cursors.js'), type: 'text/javascript; charset=utf-8' },
  '/roommesh.js': { file: bundle('roommesh.js'), type: 'text/javascript; charset=utf-8' },
  '/roommesh.js.map': { file: bundle('roommesh.js.map'), type: 'application/json' },
};

/** Answers a GET for one of the served files; false if `path` is not one of them. */
export function serveStatic(path: string, response: ServerResponse): boolean {
  const entry = FILES[path];
  if (entry === undefined) return false;
  const unavailable = (why: string): void => void response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${why}\n`);
  if (entry.file === undefined) {
    unavailable('the roommesh package is not installed beside roommesh-server: `npm install roommesh`');
    return true;
  }
  const file = entry.file;
  readFile(file).then(
    (body) => response.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache' }).end(body),
    () => unavailable(`${file} is missing: run \`npm run build\` in the roommesh repository, or reinstall roommesh-server`),
  );
  return true;
}
