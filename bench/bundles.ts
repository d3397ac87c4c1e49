/**
 * Browser bundle sizes, minified and gzipped: roommesh's own bundle (client/dist/browser, from
 * `npm run build`), Trystero's MQTT strategy bundled here the way an app would (esbuild, browser,
 * minified, `joinRoom` only), and simple-peer's prebuilt minified build for raw.
 */
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Value } from './report.js';
import { figure } from './stats.js';

export interface BundleSizes {
  minified: { rm: Value; ty: Value; raw: Value };
  gzipped: { rm: Value; ty: Value; raw: Value };
}

const kib = (bytes: number): Value => figure([bytes / 1024]);

/** Trystero's MQTT strategy for browsers, minified, as an app would bundle it: ESM, or a script setting `window.Trystero`. */
export async function bundleTrystero(format: 'esm' | 'iife'): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents: "export { joinRoom } from '@trystero-p2p/mqtt';", resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format,
    ...(format === 'iife' ? { globalName: 'Trystero' } : {}),
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.contents ?? new Uint8Array();
}

export async function bundleSizes(): Promise<BundleSizes> {
  const roommeshPath = 'client/dist/browser/roommesh.js';
  const roommesh = existsSync(roommeshPath) ? readFileSync(roommeshPath) : undefined;
  const trystero = await bundleTrystero('esm').then(
    (bytes) => Buffer.from(bytes),
    (error: Error) => error.message,
  );
  const raw = readFileSync('node_modules/simple-peer/simplepeer.min.js');
  const missing = 'no client/dist: npm run build';
  const sized = (bytes: Buffer | string | undefined, zip: boolean): Value =>
    bytes === undefined ? missing : typeof bytes === 'string' ? `failed: ${bytes}` : kib(zip ? gzipSync(bytes).length : bytes.length);
  return {
    minified: { rm: sized(roommesh, false), ty: sized(trystero, false), raw: sized(raw, false) },
    gzipped: { rm: sized(roommesh, true), ty: sized(trystero, true), raw: sized(raw, true) },
  };
}
