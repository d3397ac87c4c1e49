// Builds the browser bundle: dist/browser/roommesh.js, one ESM file with its dependencies.
// The browser uses its own RTCPeerConnection (package.json "browser" maps @roamhq/wrtc to
// nothing) and simple-peer's prebuilt browser build, which carries its own Buffer/stream
// shims, so no Node built-in reaches the bundle. dist/browser/meta.json lists every input.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const result = await build({
  entryPoints: ['client/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  alias: { 'simple-peer': 'simple-peer/simplepeer.min.js' },
  outfile: 'dist/browser/roommesh.js',
  metafile: true,
  logLevel: 'warning',
});
mkdirSync('dist/browser', { recursive: true });
writeFileSync('dist/browser/meta.json', JSON.stringify(result.metafile, null, 1));
const bytes = result.metafile.outputs['dist/browser/roommesh.js']?.bytes ?? 0;
console.log(`dist/browser/roommesh.js: ${(bytes / 1024).toFixed(1)} KiB`);
