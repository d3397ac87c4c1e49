/**
 * A browser participant of the network lab: Chromium (playwright-core) or Firefox (puppeteer-core)
 * launched inside a host's namespace, its page running roommesh from the service's /roommesh.js.
 *   ip netns exec <ns> node --import tsx test/network/browser-agent.ts '<json config>'
 * It speaks agent.ts's protocol on stdio (the same commands and events), relayed into the page.
 * The service's plain-http origin is made a secure context (the relay needs WebCrypto); pages on
 * insecure origins are the zero-trust issue's to handle.
 */
import { createInterface } from 'node:readline';
import { launchFirefox } from '../browser/browsers.js';
import { launchChromium } from '../browser/chromium.js';

interface Config {
  browser: 'chromium' | 'firefox';
  name: string;
  url: string;
  room: string;
}

interface LabPage {
  goto(url: string): Promise<unknown>;
  exposeFunction(name: string, fn: (line: string) => void): Promise<void>;
  evaluate(script: string): Promise<unknown>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const origin = new URL(config.url).origin;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The agent, in the page: plain JavaScript (a string, so that no transpiler helper leaks into it). */
const PAGE_AGENT = `void (async () => {
  const { RoomClient } = await import(${JSON.stringify(`${origin}/roommesh.js`)});
  const say = (event, fields = {}) => window.__labSay(JSON.stringify({ event, t: Date.now(), ...fields }));
  const received = [];
  const latencies = [];
  const arrivals = [];
  let peer;
  const room = new RoomClient({ url: ${JSON.stringify(config.url)}, room: ${JSON.stringify(config.room)}, name: ${JSON.stringify(config.name)}, logger: { debug() {}, info: (f, m) => say('log', { level: 'info', m }), warn: (f, m) => say('log', { level: 'warn', m }), error: (f, m) => say('log', { level: 'error', m }) } });
  const describe = (p) => ({ link: p.link, path: p.path });
  room.messaging.on('message', (m) => {
    const body = m.message;
    if (body.kind === 'stream') {
      received.push(body.n);
      latencies.push(Date.now() - body.at);
      arrivals.push([body.n, body.at, Date.now()]);
      if (received.length % 50 === 0) say('received', { count: received.length });
    } else if (body.kind === 'first') say('got-first', { ms: Date.now() - body.at });
  });
  room.messaging.on('participant_link_changed', (p) => say('path', describe(p)));
  room.messaging.on('participant_added', (p) => { peer = p; say('present', { id: p.id, ...describe(p) }); });
  room.messaging.on('participant_removed', (p) => say('removed', { id: p.id }));
  const percentile = (values, p) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? null; };
  window.__labCommand = async (cmd) => {
    if (cmd.cmd === 'path') return say('path-now', peer ? describe(peer) : { path: 'none' });
    if (cmd.cmd === 'arrivals') return say('arrivals', { list: arrivals });
    if (cmd.cmd === 'report') {
      const inOrder = received.every((n, i) => i === 0 || n > received[i - 1]);
      return say('report', { received: received.length, duplicates: received.length - new Set(received).size, inOrder, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
    }
    if (!peer) return say('error', { message: 'no link yet for ' + cmd.cmd });
    if (cmd.cmd === 'first') {
      await room.messaging.sendMessage({ to: peer, type: 'lab', message: { kind: 'first', at: Date.now() } });
    } else if (cmd.cmd === 'stream') {
      const sends = [];
      for (let n = 0; n < cmd.count; n++) {
        const at = Date.now();
        sends.push(room.messaging.sendMessage({ to: peer, type: 'lab', message: { kind: 'stream', n, at } }).catch((e) => say('send-failed', { n, at, message: String(e) })));
        await new Promise((r) => setTimeout(r, 1000 / cmd.rate));
      }
      await Promise.all(sends);
      say('stream-sent', { count: cmd.count });
    } else if (cmd.cmd === 'bulk') {
      const at = performance.now();
      await room.messaging.sendMessage({ to: peer, type: 'bulk', message: {}, attachment: new Uint8Array(cmd.bytes) });
      say('bulk-done', { mbPerSecond: cmd.bytes / 1e6 / ((performance.now() - at) / 1000) });
    }
  };
  await room.start();
  say('started', { id: room.localParticipant.id });
  say('enabling');
  const enabling = performance.now();
  await room.messaging.enable();
  say('enabled', { ms: performance.now() - enabling, peers: room.messaging.getParticipants().length });
})().catch((e) => window.__labSay(JSON.stringify({ event: 'error', t: Date.now(), message: String(e) })))`;

/**
 * Each step on stderr, which the lab prints when an agent fails: in one CI run every Firefox of the
 * matrix said nothing within 30 s, with nothing on stderr, and where it stopped was not known.
 */
const step = (what: string): void => void process.stderr.write(`${new Date().toISOString()} ${config.name}: ${what}\n`);
// A launch that hangs ends the agent with a reason rather than leaving the lab's wait to time out.
const hung = setTimeout(() => {
  step(`${config.browser} did not start within 25 s`);
  process.exit(1);
}, 25_000);

let page: LabPage;
let dispose: () => Promise<void>;
step(`launching ${config.browser}`);
if (config.browser === 'chromium') {
  const chromium = await launchChromium([`--unsafely-treat-insecure-origin-as-secure=${origin}`]);
  page = (await chromium.context.newPage()) as unknown as LabPage;
  dispose = chromium.dispose;
} else {
  const firefox = await launchFirefox(undefined, { 'dom.securecontext.allowlist': new URL(origin).hostname });
  page = (await firefox.browser.newPage()) as unknown as LabPage;
  dispose = firefox.dispose;
}
step('launched; opening the page');
await page.exposeFunction('__labSay', out);
await page.goto(`${origin}/healthz`);
await page.evaluate(PAGE_AGENT); // returns at once; the page reports its progress through __labSay
clearTimeout(hung);
step('page agent running');
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string };
  if (cmd.cmd === 'stop') {
    void dispose().then(() => process.exit(0));
    return;
  }
  void page.evaluate(`window.__labCommand(${JSON.stringify(cmd)})`).catch((error: unknown) => out(JSON.stringify({ event: 'error', t: Date.now(), message: String(error) })));
});
process.on('SIGTERM', () => void dispose().then(() => process.exit(0)));
