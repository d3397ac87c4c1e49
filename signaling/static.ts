/**
 * The files the service serves over HTTP: the demo room page at `/` and the browser
 * bundle it loads. They are read from the package (demo/ and dist/browser/), found from
 * this module whether it runs from source or from dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'roommesh') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('roommesh: cannot find the package root to serve the demo from');
    dir = parent;
  }
}

const root = packageRoot();

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'demo/index.html', type: 'text/html; charset=utf-8' },
  '/demo.js': { file: 'demo/demo.js', type: 'text/javascript; charset=utf-8' },
  '/demo.css': { file: 'demo/demo.css', type: 'text/css; charset=utf-8' },
  '/mesh.js': { file: 'demo/mesh.js', type: 'text/javascript; charset=utf-8' },
  '/roommesh.js': { file: 'dist/browser/roommesh.js', type: 'text/javascript; charset=utf-8' },
  '/roommesh.js.map': { file: 'dist/browser/roommesh.js.map', type: 'application/json' },
};

/** Answers a GET for one of the served files; false if `path` is not one of them. */
export function serveStatic(path: string, response: ServerResponse): boolean {
  const entry = FILES[path];
  if (entry === undefined) return false;
  readFile(join(root, entry.file)).then(
    (body) => response.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache' }).end(body),
    () =>
      response
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`${entry.file} is missing: run \`npm run build\` in the roommesh folder.\n`),
  );
  return true;
}
