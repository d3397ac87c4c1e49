import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
const block = /```\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

/** The files ARCHITECTURE.md lists under each side, in its order. */
function listed(side: string): string[] {
  const files: string[] = [];
  let current: string | undefined;
  for (const line of block.split('\n')) {
    const heading = /^([a-z]+)\/\s/.exec(line);
    if (heading !== null) current = heading[1];
    const entry = /^ {2}([a-z/-]+\.ts)\s/.exec(line);
    if (entry !== null && current === side) files.push(`${side}/${entry[1]}`);
  }
  return files;
}

/** The TypeScript sources under `dir`; a package's build output and installed modules are not sources. */
const sources = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (['dist', 'node_modules'].includes(e.name) ? [] : sources(join(dir, e.name))) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );

const importsOf = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/from '(\.[^']+)\.js'/g)].map((m) => relative(root, normalize(join(root, dirname(file), `${m[1] ?? ''}.ts`))));

describe('ARCHITECTURE.md', () => {
  for (const side of ['protocol', 'signaling', 'client']) {
    it(`lists every file of ${side}/, each above the files it imports`, () => {
      const order = listed(side);
      expect([...order].sort()).toEqual(sources(side).sort());
      for (const [at, file] of order.entries()) {
        for (const imported of importsOf(file).filter((f) => f.startsWith(`${side}/`))) {
          expect(order.indexOf(imported), `${file} imports ${imported}, listed above it`).toBeGreaterThan(at);
        }
      }
    });
  }
});
