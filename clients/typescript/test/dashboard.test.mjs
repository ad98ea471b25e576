// The dashboard the binary serves, in real Chromium (playwright-core driving Debian's chromium),
// on the demo world: projects, drift, outdated artifacts, and a change on disk shown without a
// reload through the page's projcache-client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS, findChromium, withServer } from './support.mjs';

const SHOT = process.env.SCREENSHOT || path.join(os.tmpdir(), 'projcache-dashboard.png');

test('dashboard shows projects, drift and live changes', { timeout: 90_000 }, () => withServer({}, async ({ world, srv }) => {
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(srv.url + '/');
    await page.waitForFunction(() => document.querySelectorAll('#projects tbody tr').length === 3);
    const projects = await page.textContent('#projects');
    assert.match(projects, /Web App/);
    for (const state of ['synced', 'outdated', 'modified', 'conflict', 'removed', 'missing']) assert.match(projects, new RegExp(state));
    assert.match(await page.textContent('#stale'), /minor version upgrade \(0 -> 2\)/);
    await page.waitForSelector('#live:has-text("live")');

    // A local edit of a synced skill: the event arrives and Web App now has two modified artifacts.
    fs.appendFileSync(world.skill, 'local edit\n');
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
  }
}));
