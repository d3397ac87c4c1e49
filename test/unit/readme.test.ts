import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Tunables } from '../../client/options.js';
import { ERROR_CODES } from '../../protocol/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('lists exactly the error codes the code has, in the same order', () => {
    const codes = [...section('Errors').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(codes).toEqual([...ERROR_CODES]);
  });

  it('shows the quick start exactly as examples/quickstart.mjs has it', () => {
    const block = /```js\n([\s\S]*?)```/.exec(section('Quick start'))?.[1];
    expect(block).toBe(readFileSync(new URL('../../examples/quickstart.mjs', import.meta.url), 'utf8'));
  });

  it('lists every client tunable with the default DEFAULTS has', () => {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    const shown = (key: string, value: number): string => {
      if (key.endsWith('Bytes') && value % MiB === 0) return `${value / MiB} MiB`;
      if (key.endsWith('Bytes') && value % KiB === 0) return `${value / KiB} KiB`;
      return value.toLocaleString('en');
    };
    const table: Record<string, string> = {};
    const block = section('API').slice(section('API').indexOf('### `new RoomClient(options)`'));
    for (const [, names, defaults] of block.matchAll(/^\| (`[a-zA-Z]+`(?: \/ `[a-zA-Z]+`)*) \| ([^|]+) \|/gm)) {
      const keys = (names ?? '').split(' / ').map((n) => n.replaceAll('`', ''));
      const values = (defaults ?? '').trim().split(' / ');
      keys.forEach((key, i) => (table[key] = values[i] ?? ''));
    }
    const expected = Object.fromEntries((Object.keys(DEFAULTS) as Array<keyof Tunables>).map((key) => [key, shown(key, DEFAULTS[key])]));
    expect(Object.fromEntries(Object.keys(expected).map((key) => [key, table[key]]))).toEqual(expected);
  });
});
