import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
});
