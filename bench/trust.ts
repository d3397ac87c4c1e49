/**
 * What zero trust costs, where it runs: `npm run bench:trust`. The room passphrase's KDF
 * (PBKDF2-SHA-256, 600,000 iterations), a stream binding's signature and check (Ed25519), and
 * the relay's key agreement and sealing, each with WebCrypto and in pure JS (what a page without
 * WebCrypto runs), in Node and in Chromium: a secure page (http://127.0.0.1) and an insecure one
 * (http://roommesh.test, mapped to 127.0.0.1), each at full speed and with the CPU throttled 4×
 * (Lighthouse's mid-range phone budget). The page gets the same modules as the bundle, bundled
 * here by esbuild. Medians of a few runs; the first (cold) run is reported apart.
 */
import { build } from 'esbuild';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchChromium } from '../test/browser/chromium.js';

const HOST = 'roommesh.test';

/** Runs in Node, and (bundled) in the page as window.__trustBench. */
const MEASURE = `
import { deriveRoomKey } from './client/trust/passphrase.js';
import { freshIdentity, sign, verify } from './client/trust/identity.js';
import { RelaySeal } from './client/peer/relay-crypto.js';
import { defaultSuite, nobleSuite } from './client/peer/relay-suite.js';

const time = async (run) => { const t = performance.now(); await run(); return performance.now() - t; };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measure(runs) {
  const out = {};
  out.suite = defaultSuite().name;
  const kdf = [];
  for (let i = 0; i < runs; i++) kdf.push(await time(() => deriveRoomKey('correct horse battery staple', 'room' + i)));
  out.kdfMs = median(kdf);
  const identity = freshIdentity();
  const message = new Uint8Array(194).fill(7);
  const signs = [], verifies = [];
  for (let i = 0; i < 50; i++) {
    let sig;
    signs.push(await time(() => { sig = sign(identity, message); }));
    verifies.push(await time(() => verify(identity.publicKey, message, sig)));
  }
  out.signColdMs = signs[0]; out.verifyColdMs = verifies[0];
  out.signMs = median(signs.slice(1)); out.verifyMs = median(verifies.slice(1));
  for (const [name, suite] of [['default', defaultSuite()], ['noble', nobleSuite]]) {
    const agree = [];
    let a, b;
    for (let i = 0; i < 5; i++) {
      agree.push(await time(async () => {
        [a, b] = await Promise.all([RelaySeal.create(suite), RelaySeal.create(suite)]);
        await Promise.all([a.agree(b.keyFrame.subarray(1), 's', 'a', 'b'), b.agree(a.keyFrame.subarray(1), 's', 'b', 'a')]);
      }));
    }
    const packet = new Uint8Array(64 * 1024).fill(1);
    const bytes = 8 * 1024 * 1024;
    const sealMs = await time(async () => { for (let n = 0; n < bytes; n += packet.length) await a.seal(packet); });
    out[name + 'AgreeMs'] = median(agree);
    out[name + 'SealMBps'] = bytes / 1e6 / (sealMs / 1000);
  }
  return out;
}
`;

async function pageBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: `${MEASURE}\nwindow.__trustBench = measure;`, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

type Result = Record<string, number | string>;

const fmt = (value: number | string | undefined, digits = 1): string => (typeof value === 'number' ? value.toFixed(digits) : (value ?? '–'));

async function main(): Promise<void> {
  const runs = Number(process.env['TRUST_BENCH_RUNS'] ?? 3);
  const script = await pageBundle();
  const rows: Array<{ where: string; result: Result }> = [];

  const node = (await import('data:text/javascript;base64,' + Buffer.from((await build({ stdin: { contents: MEASURE, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' })).outputFiles[0]?.text ?? '').toString('base64'))) as { measure(runs: number): Promise<Result> };
  rows.push({ where: 'Node (WebCrypto)', result: await node.measure(runs) });

  const http = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>trust bench</title>'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const chromium = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  try {
    for (const [origin, label] of [[`http://127.0.0.1:${port}`, 'secure page'], [`http://${HOST}:${port}`, 'plain-http page']] as const) {
      for (const rate of [1, 4]) {
        const page = await chromium.context.newPage();
        await page.goto(`${origin}/`);
        const cdp = await chromium.context.newCDPSession(page);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate });
        await page.addScriptTag({ content: script });
        const result = (await page.evaluate((n) => (window as unknown as { __trustBench(n: number): Promise<Result> }).__trustBench(n), runs)) as Result;
        rows.push({ where: `Chromium, ${label}${rate === 1 ? '' : `, CPU ÷${rate}`}`, result });
        await page.close();
      }
    }
  } finally {
    await chromium.dispose();
    http.close();
  }

  console.log('| where | suite | PBKDF2 600k (ms) | Ed25519 sign / verify (ms; cold) | relay key agreement (ms): WebCrypto / pure JS | relay sealing (MB/s): WebCrypto / pure JS |');
  console.log('|---|---|---|---|---|---|');
  for (const { where, result: r } of rows) {
    const webcrypto = r['suite'] === 'webcrypto';
    console.log(
      `| ${where} | ${String(r['suite'])} | ${fmt(r['kdfMs'], 0)} | ${fmt(r['signMs'], 2)} / ${fmt(r['verifyMs'], 2)} (${fmt(r['signColdMs'])} / ${fmt(r['verifyColdMs'])}) | ${webcrypto ? fmt(r['defaultAgreeMs']) : '–'} / ${fmt(r['nobleAgreeMs'])} | ${webcrypto ? fmt(r['defaultSealMBps'], 0) : '–'} / ${fmt(r['nobleSealMBps'], 0)} |`,
    );
  }
}

await main();
