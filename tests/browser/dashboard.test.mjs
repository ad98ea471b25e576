// The dashboard in a real browser: Debian's chromium, driven by playwright-core, against the
// real binary serving the demo world. A change on disk must show up without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.PROJCACHE_BINARY;

// Chromium: $CHROMIUM, else the first of the usual names on PATH.
function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const dir of (process.env.PATH || '').split(path.delimiter)) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch { /* not here */ }
    }
  }
  throw new Error('no Chromium found: install Debian\'s chromium or set CHROMIUM to its path');
}

// The server must stop cleanly on SIGTERM: exit 0 and no sanitizer report (the test build runs
// with ASan and UBSan).
async function stopCleanly(srv, stderr) {
  const exited = new Promise((resolve) => srv.once('exit', (code, signal) => resolve({ code, signal })));
  srv.kill('SIGTERM');
  const { code, signal } = await exited;
  const text = stderr.join('');
  assert.ok(!/Sanitizer|runtime error:/.test(text), 'sanitizer report from projcache:\n' + text);
  assert.equal(code, 0, `projcache exited ${code} (${signal}) on SIGTERM; its stderr:\n${text}`);
}
const SHOT = process.env.SCREENSHOT || path.join(os.tmpdir(), 'projcache-dashboard.png');

test('dashboard shows projects, drift and live changes', { timeout: 90_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'projcache-browser-'));
  execFileSync(BIN, ['demo', dir]);
  const env = { ...process.env, SKILLMEAT_HOME: path.join(dir, 'home'),
                SKILLMEAT_CACHE_SEARCH_ROOTS: path.join(dir, 'dev'), SKILLMEAT_CACHE_DEBOUNCE_MS: '50' };
  const srv = spawn(BIN, ['serve', '--port', '0', '--exit-with-parent', 'true'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  srv.stderr.on('data', (chunk) => stderr.push(chunk.toString()));
  const line = await new Promise((resolve) => readline.createInterface({ input: srv.stdout }).once('line', resolve));
  const { url } = JSON.parse(line);
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url + '/');
    await page.waitForFunction(() => document.querySelectorAll('#projects tbody tr').length === 3);
    const projects = await page.textContent('#projects');
    assert.match(projects, /Web App/);
    for (const state of ['synced', 'outdated', 'modified', 'conflict', 'removed', 'missing']) assert.match(projects, new RegExp(state));
    assert.match(await page.textContent('#stale'), /minor version upgrade \(0 -> 2\)/);
    await page.waitForSelector('#live:has-text("live")');

    // A local edit of a synced skill: the event arrives and Web App now has two modified artifacts.
    fs.appendFileSync(path.join(dir, 'dev', 'webapp', '.claude', 'skills', 'canvas-design', 'SKILL.md'), 'local edit\n');
    await page.waitForSelector('#feed li:has-text("changes_detected")', { timeout: 20_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('#projects tbody tr')]
      .some((r) => r.textContent.includes('Web App') && r.textContent.includes('modified 2')), null, { timeout: 20_000 });

    // The refresh button answers too: one more refresh_completed than before the click.
    const completed = () => page.$$eval('#feed li', (items) => items.filter((li) => li.textContent.includes('refresh_completed')).length);
    const before = await completed();
    await page.click('#refresh-all');
    await page.waitForFunction((n) => [...document.querySelectorAll('#feed li')]
      .filter((li) => li.textContent.includes('refresh_completed')).length > n, before, { timeout: 20_000 });
    await page.screenshot({ path: SHOT, fullPage: true });
    assert.ok(fs.statSync(SHOT).size > 10_000);
  } finally {
    await browser.close();
    await stopCleanly(srv, stderr);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
