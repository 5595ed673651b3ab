// The console in a real headless browser (Debian's chromium) against a broker with data: each page loads and
// shows what the broker holds; screenshots are saved as test artifacts (the directory is printed).
//
// Two drivers: chromium's own --dump-dom/--screenshot (runs wherever chromium is installed; checks the rendered
// DOM of each page), and playwright-core (clicks, forms, the lag chart), which needs the devDependency
// playwright-core: the test skips with that reason while it is absent.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EVENTS, seededBroker, T0 } from './testing/seed.ts';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
// Screenshots: a new directory under $GREGOR_TEST_ARTIFACTS (CI keeps it) or the temp dir.
const artifacts = mkdtempSync(path.join(process.env.GREGOR_TEST_ARTIFACTS ?? os.tmpdir(), 'gregor-console-screens-'));
// No sandbox: CI runs as root in a container, where chromium's sandbox cannot start.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,900', '--virtual-time-budget=5000'];

function chromium(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM!, [...CHROMIUM_ARGS, ...args], { timeout: 60_000, maxBuffer: 32 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** Text of the rendered DOM without tags (enough to check what a page shows). */
const text = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

t.test('each page in headless chromium (--dump-dom)', { skip: CHROMIUM ? false : 'chromium is not installed (apt-get install chromium)' }, async (t) => {
  const s = await seededBroker();
  t.teardown(() => s.close());
  t.comment(`screenshots in ${artifacts}`);
  const pages: Array<[string, (dom: string, body: string) => void]> = [
    ['cluster', (dom, body) => { t.match(dom, 'data-page="cluster"'); t.match(body, s.tb.broker.clusterId); t.match(body, `127.0.0.1 ${s.tb.port}`); }],
    ['topics', (dom, body) => { t.match(dom, 'href="#/topic/events"'); t.match(body, `events 1 ${EVENTS.length} `); t.match(body, 'orders 3 '); }],
    ['topic/orders', (_dom, body) => { t.match(body, 'Topic orders'); t.match(body, 'retention.ms 3600000 DYNAMIC_TOPIC_CONFIG'); }],
    ['messages?topic=events', (dom, body) => {
      t.match(dom, /<span class="tag">JSON<\/span><pre>\{\n {2}"id": 1,/);
      t.match(body, 'plain text value');
      t.match(body, 'hex · 4 B 00 01 fe ff');
      t.match(body, 'source : web');
    }],
    [`messages?topic=events&timestamp=${T0 + 1500}`, (_dom, body) => { t.match(body, 'showing 2 from 2'); t.notMatch(body, 'plain text value'); }],
    ['groups', (_dom, body) => { t.match(body, 'billing classic Empty 3'); t.match(body, 'live classic'); }],
    ['group/live', (_dom, body) => { t.match(body, 'orders: 0,1,2'); }],
    ['group/billing', (dom, body) => { t.match(dom, /<path class="line"/); t.match(body, 'events 0 1 4 3'); }],
    ['transactions', (_dom, body) => { t.match(body, 'tx-1 CompleteCommit'); t.match(body, 'tx-open Ongoing'); t.match(body, 'orders-2'); }],
    ['faults', (_dom, body) => { t.match(body, 'slow-nothing api=Fetch topic=no-such-topic delayMs=5 times 3'); }],
  ];
  // Two lag samples at least, so the chart has a line.
  await new Promise((r) => setTimeout(r, 500));
  for (const [hash, check] of pages) {
    const file = path.join(artifacts, `${hash.replace(/[^a-z0-9]+/gi, '-')}.png`);
    // One run prints the DOM and saves the screenshot.
    const dom = await chromium(['--dump-dom', `--screenshot=${file}`, `${s.http}/console/#/${hash}`]);
    t.match(dom, 'aria-busy="false"', `${hash} rendered`);
    t.notMatch(dom, 'data-field="error"', `${hash} without an error`);
    check(dom, text(dom));
    t.ok(statSync(file).size > 1000, `screenshot ${path.basename(file)}`);
  }
});

// The part of playwright-core's API used here (it is loaded by name so the type check does not need it).
interface Page {
  goto(url: string): Promise<unknown>;
  waitForSelector(sel: string, o?: { timeout?: number }): Promise<unknown>;
  textContent(sel: string): Promise<string | null>;
  locator(sel: string): { allTextContents(): Promise<string[]>; count(): Promise<number>; first(): { getAttribute(n: string): Promise<string | null> } };
  click(sel: string): Promise<void>;
  fill(sel: string, v: string): Promise<void>;
  selectOption(sel: string, v: string): Promise<unknown>;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
}
interface Browser { newPage(o?: { viewport?: { width: number; height: number } }): Promise<Page>; close(): Promise<void> }
type Playwright = { chromium: { launch(o: { executablePath: string; args?: string[]; headless?: boolean }): Promise<Browser> } };

const PLAYWRIGHT = 'playwright-core';
const playwright = await (import(PLAYWRIGHT) as Promise<Playwright>).catch(() => null);
const skip = !playwright ? 'playwright-core is not installed (devDependency playwright-core)' : !CHROMIUM ? 'chromium is not installed (apt-get install chromium)' : false;

t.test('pages, navigation and forms with playwright-core', { skip }, async (t) => {
  const s = await seededBroker();
  t.teardown(() => s.close());
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'], headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shown = (name: string) => page.waitForSelector(`main[aria-busy="false"][data-page="${name}"]`, { timeout: 15_000 });
  const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `playwright-${name}.png`), fullPage: true });
  t.comment(`screenshots in ${artifacts}`);

  await page.goto(`${s.http}/console/`);
  await shown('cluster');
  t.equal(await page.textContent('[data-field="clusterId"]'), s.tb.broker.clusterId);
  await shot('cluster');

  await page.click('nav a[data-page="topics"]');
  await shown('topics');
  t.match(await page.locator('[data-table="topics"] tbody tr').allTextContents(), [/^events1/, /^orders3/]);
  await shot('topics');

  await page.click('a[href="#/topic/orders"]');
  await shown('topic');
  t.equal(await page.locator('[data-table="partitions"] tbody tr').count(), 3);
  await shot('topic');

  await page.click('nav a[data-page="messages"]');
  await shown('messages');
  t.equal(await page.locator('[data-table="messages"] tbody tr').count(), EVENTS.length);
  t.match(await page.textContent('.payload.json pre'), '"item": "book"');
  await page.selectOption('select[name="by"]', 'timestamp');
  await page.fill('input[name="from"]', new Date(T0 + 1500).toISOString());
  await page.click('form.browse button');
  await page.waitForSelector('[data-field="range"]:has-text("showing 2 from 2")', { timeout: 15_000 });
  await shot('messages');

  await page.click('nav a[data-page="groups"]');
  await shown('groups');
  await page.click('a[href="#/group/billing"]');
  await shown('group');
  t.equal(await page.textContent('[data-field="lag"]'), String(EVENTS.length - 1));
  // The page refreshes itself every second; wait until the chart has a line of two samples or more.
  const deadline = Date.now() + 15_000;
  let points = 0;
  while (points < 2 && Date.now() < deadline) {
    if (await page.locator('svg.chart path.line').count() > 0) points = Number(await page.locator('svg.chart path.line').first().getAttribute('data-points'));
    if (points < 2) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(points >= 2, `lag chart with ${points} samples`);
  await shot('group');

  await page.click('nav a[data-page="transactions"]');
  await shown('transactions');
  t.match(await page.locator('[data-table="transactions"] tbody tr').allTextContents(), [/^tx-1CompleteCommit/, /^tx-openOngoing/]);
  await shot('transactions');

  await page.click('nav a[data-page="faults"]');
  await shown('faults');
  t.match(await page.locator('[data-table="faults"] tbody tr').allTextContents(), [/^slow-nothing/]);
  await shot('faults');
});
