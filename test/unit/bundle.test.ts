import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

// Written by `npm run build` (scripts/bundle.mjs), which `npm test` runs first.
const META = 'dist/browser/meta.json';

describe('the browser bundle', () => {
  it('contains no Node-only module and no Node WebRTC', () => {
    expect(existsSync(META), `${META} (run npm run build)`).toBe(true);
    const meta = JSON.parse(readFileSync(META, 'utf8')) as {
      inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
      outputs: Record<string, { bytes: number; imports: Array<{ path: string }>; inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const inputs = Object.keys(meta.inputs);
    const nodeOnly = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    // Nothing imports a Node built-in, nothing is left external, and no Node-only package is inside.
    const imports = Object.values(meta.inputs).flatMap((input) => input.imports);
    expect(imports.filter((i) => nodeOnly.has(i.path) || (i.external && i.path !== '<runtime>'))).toEqual([]); // <runtime>: esbuild's own helpers
    // package.json's "browser" field swaps the Node stacks for empty stubs ("(disabled):…").
    const real = inputs.filter((path) => !path.startsWith('(disabled):'));
    expect(real.filter((path) => /@roamhq|node-datachannel|node_modules\/ws\/|node_modules\/pino|node_modules\/zod|signaling\//.test(path))).toEqual([]);
    const stubs = inputs.filter((path) => path.startsWith('(disabled):'));
    expect(stubs.sort()).toEqual(['(disabled):node_modules/@roamhq/wrtc/lib/browser.js', '(disabled):node_modules/node-datachannel/dist/esm/polyfill/index.mjs']);
    expect(inputs.some((path) => path.includes('engine.io-client/build/esm/'))).toBe(true); // the browser build, not esm-debug/cjs node
    const output = meta.outputs['dist/browser/roommesh.js'];
    expect(output?.imports).toEqual([]);
    for (const stub of stubs) expect(output?.inputs[stub]?.bytesInOutput ?? 0).toBeLessThan(64); // an empty module wrapper, no code
    expect(output?.bytes).toBeLessThan(225 * 1024); // 217 KiB with request/response, progress and abort, the iterator
    const code = readFileSync('dist/browser/roommesh.js', 'utf8');
    expect(code).not.toMatch(/\brequire\(["'](?:node:)?(?:fs|net|tls|http|https|dgram|child_process|worker_threads)["']\)/);
  });
});

describe('what the package ships', () => {
  it('source maps that carry their sources, a LICENSE matching package.json, and the files the docs link to', () => {
    const maps = ['dist/browser/roommesh.js.map', ...['client', 'signaling', 'protocol'].flatMap((dir) => readdirSync(`dist/${dir}`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js.map')).map((f) => `dist/${dir}/${f}`))];
    expect(maps.length).toBeGreaterThan(30);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(sourcesContent?.length, map).toBe(sources.length);
      expect(sourcesContent?.every((text) => typeof text === 'string' && text.length > 0), map).toBe(true);
    }
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string; files: string[] };
    expect(readFileSync('LICENSE', 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
    for (const shipped of ['LICENSE', 'README.md', 'ARCHITECTURE.md', 'docs', 'demo']) expect(pkg.files).toContain(shipped);
  });
});
