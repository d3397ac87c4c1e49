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

    const other = await browser().newPage();
    await other.goto(`${url}/?room=vip&name=mallory&token=forged`);
    await other.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => other.locator('#join-error').innerText()).toMatch(/^UNAUTHORIZED: the join token is malformed/);
    expect(await other.locator('#join-panel').isVisible()).toBe(true);
    await page.close();
    await other.close();
  });
});
