import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers.js';

const run = promisify(execFile);

describe('the README quick start', () => {
  it('runs as pasted (against the built package) and prints what the README says', async () => {
    const { url } = await startServer();
    const { stdout, stderr } = await run(process.execPath, ['examples/quickstart.mjs'], {
      env: { ...process.env, ROOMMESH_URL: url },
      timeout: 30_000,
    });
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(stdout).toBe(printed);
    expect(stderr).toBe('');
  });
});
