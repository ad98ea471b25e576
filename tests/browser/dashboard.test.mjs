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
const SHOT = process.env.SCREENSHOT || path.join(os.tmpdir(), 'projcache-dashboard.png');

test('dashboard shows projects, drift and live changes', { timeout: 90_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'projcache-browser-'));
  execFileSync(BIN, ['demo', dir]);
  const env = { ...process.env, SKILLMEAT_HOME: path.join(dir, 'home'),
                SKILLMEAT_CACHE_SEARCH_ROOTS: path.join(dir, 'dev'), SKILLMEAT_CACHE_DEBOUNCE_MS: '50' };
  const srv = spawn(BIN, ['serve', '--port', '0', '--exit-with-parent', 'true'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => readline.createInterface({ input: srv.stdout }).once('line', resolve));
  const { url } = JSON.parse(line);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
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

    // The refresh button answers too.
    await page.click('#refresh-all');
    await page.waitForSelector('#feed li:has-text("refresh_completed")');
    await page.screenshot({ path: SHOT, fullPage: true });
    assert.ok(fs.statSync(SHOT).size > 10_000);
  } finally {
    await browser.close();
    srv.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
