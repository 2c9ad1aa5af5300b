// The testbed in a real browser: Debian's Chromium, headless, driven by playwright-core. In each
// mode (a Node relay over WebSocket, and the relay inside the page) two clients are created,
// linked, a message round-trips, a burst flows and the charts show it; a screenshot of each is
// saved under build/ as an artefact. Skipped, loudly, where Chromium is not installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from './support/process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STEP_MS = 30_000;

interface TestbedState {
  mode?: string;
  ready: boolean;
  readyClients: number;
  links: number;
  messagesReceived: number;
  packetsPerSecond: number;
  packetsTotal: number;
  error?: string;
}

declare global {
  interface Window {
    testbed: TestbedState;
  }
}


/** Starts `toxrelay testbed` from the build and resolves with the page URL it prints. */
async function startTestbed(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/toxrelay.js'), 'testbed', '--port', String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`testbed did not start: ${out}`)), 20_000);
    child.stdout!.on('data', () => {
      const match = /Testbed: (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`testbed exited: ${out}`)));
  });
  return { child, url };
}

async function waitFor(page: Page, what: string, predicate: (s: TestbedState) => boolean): Promise<void> {
  try {
    // The predicate runs in the page, on its window.testbed.
    await page.waitForFunction(`Boolean(window.testbed) && (${predicate.toString()})(window.testbed)`, undefined, {
      timeout: STEP_MS,
      polling: 100,
    });
  } catch {
    const state = await page.evaluate(() => JSON.stringify(window.testbed));
    assert.unreachable(`${what}: testbed state ${state}`);
  }
}

async function exercise(page: Page, mode: 'server' | 'inpage'): Promise<void> {
  await waitFor(page, 'page ready', (s) => Boolean(s?.ready));
  await page.click(`[data-testid=mode-${mode}]`);
  await page.waitForFunction((m) => window.testbed.mode === m && window.testbed.ready, mode, { timeout: STEP_MS });

  await page.fill('[data-testid=client-count]', '2');
  await page.click('[data-testid=create-clients]');
  await waitFor(page, 'two clients connected', (s) => s.readyClients >= 2);

  // A new pair fills the empty selection, so Send links it and delivers the message.
  await page.fill('[data-testid=message-text]', 'hello through the relay');
  await page.click('[data-testid=send]');
  await waitFor(page, 'the pair linked', (s) => s.links >= 1);
  await waitFor(page, 'the message arrived', (s) => s.messagesReceived >= 1);

  await page.fill('[data-testid=burst-count]', '500');
  await page.click('[data-testid=burst]');
  await waitFor(page, 'the burst flowed', (s) => s.packetsTotal >= 1000);
  await waitFor(page, 'the rate chart saw traffic', (s) => s.packetsPerSecond > 0);
  await page.waitForTimeout(2500); // two more one-second samples, so the charts draw their lines

  const chartPoints = await page.$$eval('[data-testid=chart-packets] path, [data-testid=chart-packets] polyline', (nodes) =>
    nodes.map((n) => n.getAttribute('d') ?? n.getAttribute('points') ?? '').join(' ').length,
  );
  assert.ok(chartPoints > 0, 'the packets chart draws a line');
  assert.ok((await page.$$('[data-testid^=link-]')).length >= 1, 'the graph shows the link');
  const logText = await page.textContent('[data-testid=log]');
  assert.match(logText ?? '', /CONNECT_NOTIFICATION|connect/i);
  const error = await page.evaluate(() => window.testbed.error);
  assert.not.ok(error, `page error: ${error}`);
  await page.screenshot({ path: join(ROOT, 'build', `testbed-${mode}.png`), fullPage: true });
}

if (!existsSync(CHROMIUM)) {
  console.log(`SKIPPED browser: needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`);
} else {
  let testbed: { child: ChildProcess; url: string } | undefined;
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  test.before(async () => {
    testbed = await startTestbed();
    profile = mkdtempSync(join(tmpdir(), 'toxrelay-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });

  test.after(async () => {
    await context?.close();
    if (testbed && testbed.child.exitCode === null) {
      const exited = new Promise((resolve) => testbed!.child.once('exit', resolve));
      testbed.child.kill('SIGTERM');
      await exited;
    }
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  for (const mode of ['server', 'inpage'] as const) {
    test(`${mode === 'server' ? 'relay server over WebSocket' : 'in-page relay'}: clients link, a message round-trips, the charts show it`, async () => {
      const page = await context!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      try {
        await page.goto(testbed!.url);
        await exercise(page, mode);
        assert.equal(errors, [], 'no uncaught errors in the page');
      } finally {
        await page.close();
      }
    });
  }
}

test.run();
