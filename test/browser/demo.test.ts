import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { startServer, withTimeout } from '../helpers.js';
import { useChromium } from './chromium.js';

const browser = useChromium();

const ARTIFACTS = 'test-artifacts';

describe('the demo room page, as a person uses it', () => {
  it('joins, sees the agent and another tab, chats, sends and receives files', async () => {
    const { url } = await startServer();
    // The Node agent example, in its own process.
    const agent = spawn(process.execPath, ['examples/agent.mjs'], {
      env: { ...process.env, ROOMMESH_URL: url, ROOMMESH_ROOM: 'demo' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const agentExited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
    let agentErrors = '';
    agent.stderr.on('data', (chunk: Buffer) => (agentErrors += chunk.toString()));
    const agentReady = new Promise<void>((resolve) =>
      createInterface({ input: agent.stdout }).on('line', (line) => line.includes('is in room') && resolve()),
    );
    try {
      await withTimeout(agentReady, 15_000, 'the agent example to join');
      const alice = await browser().newPage();
      const errors: string[] = [];
      alice.on('pageerror', (e) => errors.push(e.message));
      await alice.goto(`${url}/?room=demo`);
      await alice.getByLabel('Your name').fill('alice');
      await alice.getByRole('button', { name: 'Join' }).click();
      await alice.locator('#participants li', { hasText: 'agent' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => alice.locator('#status').innerText()).toMatch(/1 other · 1 direct/);

      // A direct message to the agent, and its answer.
      await alice.getByLabel('Recipient').selectOption({ label: 'agent' });
      await alice.getByLabel('Message', { exact: true }).fill('hello agent');
      await alice.getByRole('button', { name: 'Send' }).click();
      await alice.locator('#messages li', { hasText: 'echo: hello agent' }).waitFor({ timeout: 5_000 });
      await alice.locator('#messages li.mine', { hasText: 'hello agent' }).locator('.meta', { hasText: 'You → agent · delivered' }).waitFor({ timeout: 5_000 });
      // Your own line comes first, then the answer.
      expect(await alice.locator('#messages li:not(.system)').allInnerTexts()).toEqual([expect.stringContaining('hello agent'), expect.stringContaining('echo: hello agent')]);

      // A file to the agent: it answers with the file's SHA-256.
      const file = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
      const sha = createHash('sha256').update(file).digest('hex');
      await alice.locator('#file').setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: file });
      await alice.getByLabel('Message', { exact: true }).fill('');
      await alice.getByRole('button', { name: 'Send' }).click();
      await alice.locator('#messages li', { hasText: `sha256 ${sha} (300000 bytes) of notes.bin` }).waitFor({ timeout: 10_000 });

      // Another tab joins; its broadcast file arrives at alice as a download link.
      const bob = await browser().newPage();
      await bob.goto(`${url}/?room=demo&name=bob`);
      await bob.getByRole('button', { name: 'Join' }).click();
      await alice.locator('#participants li', { hasText: 'bob' }).waitFor({ timeout: 10_000 });
      await bob.locator('#participants li', { hasText: 'alice' }).waitFor({ timeout: 10_000 });
      await bob.locator('#file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.alloc(2048, 1) });
      await bob.getByLabel('Message', { exact: true }).fill('a file for everyone');
      await bob.getByRole('button', { name: 'Send' }).click();
      const link = alice.locator('#messages a', { hasText: 'photo.png (2.0 KiB)' });
      await link.waitFor({ timeout: 10_000 });
      expect(await link.getAttribute('download')).toBe('photo.png');
      const downloaded = await alice.evaluate(async (href) => Array.from(new Uint8Array(await (await fetch(href)).arrayBuffer())), (await link.getAttribute('href')) ?? '');
      expect(downloaded).toEqual(Array(2048).fill(1));
      await expect.poll(() => alice.locator('#status').innerText()).toMatch(/2 others · 2 direct, 0 relayed/);

      // The picture of the mesh: alice's two links, and bob's link to the agent (bob's page publishes its links), each with a round trip.
      await expect.poll(() => alice.locator('#mesh line.edge.direct').count(), { timeout: 10_000 }).toBe(3);
      await expect.poll(() => alice.locator('#mesh text.rtt').count(), { timeout: 10_000 }).toBe(3);
      expect(await alice.locator('#mesh g.node').count()).toBe(3);
      await expect.poll(() => alice.locator('#participants li', { hasText: 'agent' }).innerText()).toMatch(/direct · \d+\.\d ms/);

      // Live cursors: bob's pointer over the room shows on alice's page, named, where bob put it (as a fraction of the panel), and nothing in the chat.
      const lines = await alice.locator('#messages li').count();
      const box = (await bob.locator('#room-panel').boundingBox())!;
      await bob.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.5);
      await bob.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.25, { steps: 5 });
      const cursor = alice.locator('.cursors .cursor', { hasText: 'bob' });
      await cursor.waitFor({ timeout: 5_000 });
      await expect.poll(() => cursor.evaluate((e) => [(e as HTMLElement).style.left, (e as HTMLElement).style.top].map((v) => Math.round(parseFloat(v))))).toEqual([75, 25]);
      expect(await alice.locator('#messages li').count()).toBe(lines);

      // A program's message without text shows its type and JSON; an attachment named by `name` keeps that name.
      const { RoomClient } = await import('../../client/index.js');
      const script = new RoomClient({ url, room: 'demo', name: 'script', iceServers: [] });
      await script.start();
      await script.messaging.enable();
      await alice.locator('#participants li', { hasText: 'script' }).waitFor({ timeout: 10_000 });
      // Its fingerprint, to read out and compare, on its name.
      expect(await alice.locator('#participants li', { hasText: 'script' }).locator('.name').getAttribute('title')).toBe(`script · fingerprint ${script.localParticipant.fingerprint}`);
      await script.messaging.broadcastMessage({ type: 'announcement', message: { title: 'Maintenance' } });
      await script.messaging.broadcastMessage({ type: 'file', message: { name: 'hi.bin' }, attachment: new Uint8Array([1, 2, 3]) });
      await alice.locator('#messages li', { hasText: 'announcement {"title":"Maintenance"}' }).waitFor({ timeout: 5_000 });
      await alice.locator('#messages a', { hasText: 'hi.bin (3 B)' }).waitFor({ timeout: 5_000 });
      await script.close();

      mkdirSync(ARTIFACTS, { recursive: true });
      await alice.screenshot({ path: `${ARTIFACTS}/demo-room.png`, fullPage: true });

      // Leaving: bob's tab closes, alice sees it go.
      await bob.close();
      await alice.locator('#messages li.system', { hasText: 'bob left' }).waitFor({ timeout: 2_500 });
      expect(errors).toEqual([]);
    } finally {
      agent.kill('SIGTERM');
      expect(await withTimeout(agentExited, 5_000, 'the agent to exit on SIGTERM')).toBe(0);
      expect(agentErrors).toBe('');
    }
  });
});

describe('the demo room page on a service that requires tokens', () => {
  it('joins with a token from its URL, and explains a refused one', async () => {
    const { createToken } = await import('../../signaling/index.js');
    const secret = 'demo-secret-of-at-least-32-bytes-000000';
    const { url } = await startServer({ secret });
    const page = await browser().newPage();
    const token = await createToken({ secret, room: 'vip', name: 'carol' });
    await page.goto(`${url}/?room=vip&name=ignored&token=${encodeURIComponent(token)}`);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#room-panel').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#you').innerText()).toBe('carol'); // the token's name, not the form's
    expect(page.url()).not.toContain('token='); // gone from the address bar and the history
    expect(page.url()).toContain('room=vip');

    const other = await browser().newPage();
    await other.goto(`${url}/?room=vip&name=mallory&token=forged`);
    await other.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => other.locator('#join-error').innerText()).toMatch(/^UNAUTHORIZED: the join token is malformed/);
    expect(await other.locator('#join-panel').isVisible()).toBe(true);
    await page.close();
    await other.close();
  });
});

describe('the demo room page on a phone', () => {
  it('fits 390 px without scrolling sideways, keeps the recipient and file controls usable, and says what is wrong with a blank name', async () => {
    const { url } = await startServer();
    const page = await browser().newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/?room=phone`);
    // A blank name: a message in the page, not a page stuck on "Joining…".
    await page.getByLabel('Your name').fill('   ');
    await page.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => page.locator('#join-error').innerText()).toMatch(/Pick a name/);
    expect(await page.locator('#status').innerText()).toBe('Not joined');

    await page.getByLabel('Your name').fill('pat');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#room-panel').waitFor({ state: 'visible', timeout: 10_000 });
    const other = await browser().newPage();
    await other.goto(`${url}/?room=phone&name=quinn`);
    await other.getByRole('button', { name: 'Join' }).click();
    await page.locator('#participants li', { hasText: 'quinn' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#mesh line.edge.direct').count(), { timeout: 10_000 }).toBe(1);

    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: document.documentElement.clientWidth,
      select: document.getElementById('to')?.getBoundingClientRect().width ?? 0,
      attach: document.querySelector('.attach')?.getBoundingClientRect().right ?? 0,
      send: document.getElementById('send')?.getBoundingClientRect().right ?? 0,
    }));
    expect(widths.page, 'no horizontal scroll').toBeLessThanOrEqual(widths.viewport);
    expect(widths.select, 'the recipient select keeps its width').toBeGreaterThan(200);
    expect(Math.max(widths.attach, widths.send), 'the controls stay on screen').toBeLessThanOrEqual(widths.viewport);

    // A file from the phone, through the styled picker.
    await page.locator('#file').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from a phone') });
    expect(await page.locator('#file-name').innerText()).toBe('note.txt');
    await page.getByRole('button', { name: 'Send' }).click();
    await other.locator('#messages a', { hasText: 'note.txt (18 B)' }).waitFor({ timeout: 5_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/demo-room-phone.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    await other.close();
  });
});

