import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

// Written by `npm run build` (scripts/bundle.mjs), which `npm test` runs first.
const META = 'client/dist/browser/meta.json';

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
    const output = meta.outputs['client/dist/browser/roommesh.js'];
    expect(output?.imports).toEqual([]);
    for (const stub of stubs) expect(output?.inputs[stub]?.bytesInOutput ?? 0).toBeLessThan(64); // an empty module wrapper, no code
    // 225 KiB until the blip, presence, bulk-channel and resume work of 2026-12-07 (+9.9 KiB); 240 until the same
    // day's ICE restarts, silent links kept, relay fallback and service check (+5.5 KiB; +1.3 KiB gzipped).
    // 248 until delivery modes (unordered, lossy, latest: their queues, filter, records and channels; +12.3 KiB).
    // 260 until stream bindings (identity keys: @noble/ed25519 and @noble/hashes, the binding, the passphrase KDF; +32 KiB).
    // 300 until the relay without WebCrypto (P-256 ECDH, HKDF and AES-GCM in pure JS for plain-http pages; +34.4 KiB).
    expect(output?.bytes).toBeLessThan(330 * 1024);
    // The README states the size; it must be this build's, to the KiB (a tenth of a KiB either way
    // failed a whole CI run on a one-line change, and tells a reader nothing).
    const stated = Number(/one ESM file of ([\d.]+) KiB minified/.exec(readFileSync('README.md', 'utf8'))?.[1]);
    expect(Math.abs(stated - (output?.bytes ?? 0) / 1024), 'the README states the bundle size as this build has it, to 1 KiB').toBeLessThan(1);
    const code = readFileSync('client/dist/browser/roommesh.js', 'utf8');
    expect(code).not.toMatch(/\brequire\(["'](?:node:)?(?:fs|net|tls|http|https|dgram|child_process|worker_threads)["']\)/);
  });
});

describe('the Node bundle', () => {
  it('carries its dependencies inside: only Node built-ins and the optional stacks stay outside', () => {
    const meta = JSON.parse(readFileSync('client/dist/node/meta.json', 'utf8')) as { outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }> };
    const outside = new Set((meta.outputs['client/dist/node/roommesh.js']?.imports ?? []).map((i) => i.path.replace(/^node:/, '')));
    const allowed = new Set([...builtinModules, '@roamhq/wrtc', 'node-datachannel/polyfill', 'bufferutil', 'utf-8-validate', 'supports-color']); // the last three: optional, required inside try/catch
    expect([...outside].filter((path) => !allowed.has(path))).toEqual([]);
    expect(outside).toContain('@roamhq/wrtc');
    expect(outside).toContain('node-datachannel/polyfill');
    const pkg = JSON.parse(readFileSync('client/package.json', 'utf8')) as { dependencies?: object; peerDependenciesMeta: Record<string, { optional: boolean }> };
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.peerDependenciesMeta).toEqual({ '@roamhq/wrtc': { optional: true }, 'node-datachannel': { optional: true } });
    // Every bundled package's license ships beside the bundles.
    const licenses = readFileSync('client/dist/THIRD_PARTY_LICENSES.txt', 'utf8');
    for (const name of ['simple-peer@', 'socket.io-client@', 'engine.io-client@', 'ws@']) expect(licenses).toContain(name);
  });
});

describe('what the package ships', () => {
  it('source maps that carry their sources, a LICENSE matching package.json, and the files the docs link to', () => {
    const built = ['signaling/dist/signaling', 'signaling/dist/protocol'];
    const maps = ['client/dist/browser/roommesh.js.map', 'client/dist/node/roommesh.js.map', ...built.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js.map')).map((f) => `${dir}/${f}`))];
    expect(maps.length).toBeGreaterThan(20);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(sourcesContent?.length, map).toBe(sources.length);
      expect(sourcesContent?.every((text) => typeof text === 'string' && text.length > 0), map).toBe(true);
    }
    for (const [dir, shipped] of [['client', ['LICENSE', 'README.md', 'dist/types', 'dist/node/roommesh.js', 'dist/browser/roommesh.js', 'dist/THIRD_PARTY_LICENSES.txt', 'moved']], ['signaling', ['LICENSE', 'README.md', 'dist/signaling', 'dist/protocol', 'demo']]] as const) {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { license: string; files: string[] };
      expect(readFileSync(`${dir}/LICENSE`, 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
      for (const file of shipped) expect(pkg.files, dir).toContain(file);
    }
  });
});
