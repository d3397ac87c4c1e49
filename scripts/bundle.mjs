// Builds the client package's two bundles, each one ESM file with its dependencies inside, so
// that installing `roommesh` installs one package (the Node WebRTC stacks stay outside: they are
// optional peer dependencies, loaded only when used):
// - client/dist/browser/roommesh.js: the browser's own RTCPeerConnection (client/package.json's
//   "browser" field maps the Node stacks to nothing) and simple-peer's prebuilt browser build,
//   which carries its own Buffer/stream shims, so no Node built-in reaches it;
// - client/dist/node/roommesh.js: for Node, with simple-peer's and socket.io-client's Node builds.
// meta.json beside each lists every input (a test inspects them). The licenses of every bundled
// package are gathered into client/dist/THIRD_PARTY_LICENSES.txt.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const common = { entryPoints: ['client/index.ts'], bundle: true, format: 'esm', sourcemap: true, legalComments: 'linked', metafile: true, logLevel: 'warning' };

const targets = {
  browser: { ...common, platform: 'browser', target: 'es2022', minify: true, alias: { 'simple-peer': 'simple-peer/simplepeer.min.js' }, outfile: 'client/dist/browser/roommesh.js' },
  node: {
    ...common,
    platform: 'node',
    target: 'node20',
    outfile: 'client/dist/node/roommesh.js',
    // The stacks are the user's to install. ws's native helpers and debug's supports-color are
    // optional: they are required inside try/catch, and both run without them.
    external: ['@roamhq/wrtc', 'node-datachannel', 'node-datachannel/*', 'bufferutil', 'utf-8-validate', 'supports-color'],
    // The CommonJS packages inside call require() for Node's built-ins.
    banner: { js: "import { createRequire as __roommeshRequire } from 'node:module'; const require = __roommeshRequire(import.meta.url);" },
  },
};

const packages = new Set();
for (const [name, options] of Object.entries(targets)) {
  const result = await build(options);
  const dir = dirname(options.outfile);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(result.metafile, null, 1));
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1] !== undefined) packages.add(match[1]);
  }
  const bytes = result.metafile.outputs[options.outfile]?.bytes ?? 0;
  console.log(`${options.outfile} (${name}): ${(bytes / 1024).toFixed(1)} KiB`);
}

const licenseOf = (dir) => readdirSync(dir).find((file) => /^(licen[cs]e|copying)(\.|$)/i.test(file));
const notices = [...packages].sort().map((name) => {
  const dir = join('node_modules', name);
  const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = existsSync(dir) ? licenseOf(dir) : undefined;
  const text = file === undefined ? `(no license file; package.json says ${license})` : readFileSync(join(dir, file), 'utf8').trim();
  return `${name}@${version} (${license})\n\n${text}\n`;
});
writeFileSync('client/dist/THIRD_PARTY_LICENSES.txt', `Packages bundled into roommesh's dist/browser and dist/node files, and their licenses.\n\n${notices.join('\n---\n\n')}`);
