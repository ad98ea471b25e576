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

    // The feed names projects, not paths; this page's own socket is counted once it is live.
    assert.match(await page.textContent('#feed li:has-text("changes_detected")'), /Web App/);
    await page.waitForFunction(() => Number(document.querySelector('[data-stat="subscribers"] b')?.textContent) >= 1);

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

test('dashboard: a project opens to its artifacts, search, drift filter, favicon', { timeout: 90_000 }, () => withServer({}, async ({ world, srv }) => {
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(srv.url + '/');
    await page.waitForFunction(() => document.querySelectorAll('#projects tbody tr').length === 3);
    await page.waitForSelector('#live:has-text("live")');

    // Drill-down: Web App's artifacts with drift, versions, hashes and source.
    await page.click('#projects a.open:has-text("Web App")');
    await page.waitForSelector('#detail:not([hidden]) #artifacts tbody tr');
    const row = (name) => page.$eval(`#artifacts tbody tr:has(td:first-child:text-is("${name}"))`, (tr) => tr.textContent).catch(() => '');
    const detail = await page.textContent('#detail');
    assert.match(detail, /Web App/);
    assert.match(await row('canvas-design'), /synced/);
    const hashes = await page.$$eval('#artifacts .hash', (els) => els.map((e) => e.getAttribute('title')));
    assert.ok(hashes.length > 0 && hashes.every((h) => /^[0-9a-f]{64}$/.test(h)), String(hashes));

    // A live update reaches the open project: the edited skill turns modified without a reload.
    fs.appendFileSync(world.skill, 'local edit\n');
    await page.waitForFunction(() => [...document.querySelectorAll('#artifacts tbody tr')]
      .some((r) => r.textContent.includes('canvas-design') && r.textContent.includes('modified')), null, { timeout: 20_000 });

    // The drift filter keeps the projects (and artifacts) with that drift only.
    await page.selectOption('#drift-filter', 'conflict');
    await page.waitForFunction(() => document.querySelector('#projects-summary').textContent.includes(' of 3'));
    const withConflict = await page.$$eval('#projects tbody tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(withConflict.length >= 1 && withConflict.length < 3, String(withConflict.length));
    assert.ok(withConflict.every((t) => /conflict/.test(t)));
    await page.selectOption('#drift-filter', '');

    // Search over /cache/search: matches with their project, and a result opens its project.
    await page.fill('#search', 'lint');
    await page.waitForSelector('#results:not([hidden]) tbody tr a.open');
    assert.match(await page.textContent('#results-summary'), /match\(es\) for “lint”/);
    const hit = await page.textContent('#results tbody tr');
    assert.match(hit, /lint/);
    assert.match(hit, /100/);  // an exact name match
    await page.click('#results tbody tr a.open');
    await page.waitForFunction(() => document.querySelector('#artifacts')?.textContent.includes('lint'));
    await page.fill('#search', 'no-such-artifact-anywhere');
    await page.waitForSelector('#results tbody td:has-text("no artifact name contains")');

    const icon = await fetch(srv.url + '/favicon.ico');
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
  } finally {
    await browser.close();
  }
}));

test('dashboard: an empty home says where it looked, and a root created later shows up live', { timeout: 90_000 }, () => {
  const later = path.join(os.tmpdir(), `projcache-later-${process.pid}-${Date.now()}`);
  return withServer({ env: { SKILLMEAT_CACHE_SEARCH_ROOTS: later } }, async ({ world, srv }) => {
    const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(srv.url + '/');
      await page.waitForSelector('#empty:not([hidden])');
      const empty = await page.textContent('#empty');
      assert.match(empty, /No projects yet/);
      assert.ok(empty.includes(later), empty);
      assert.match(empty, /missing: watched/);
      assert.match(empty, /SKILLMEAT_CACHE_SEARCH_ROOTS/);
      await page.waitForSelector('#live:has-text("live")');

      // The root appears with a project in it: listed without a reload, and the panel goes.
      fs.cpSync(path.join(world.dir, 'dev', 'webapp'), path.join(later, 'webapp'), { recursive: true });
      await page.waitForSelector('#projects a.open:has-text("Web App")', { timeout: 20_000 });
      await page.waitForSelector('#empty', { state: 'hidden' });
    } finally {
      await browser.close();
      fs.rmSync(later, { recursive: true, force: true });
    }
  });
});
