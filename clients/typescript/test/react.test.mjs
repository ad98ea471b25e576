// useProjcacheEvents in real Chromium: a React Query page that never polls shows a file edited
// on disk, refetched once because of the event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS, findChromium, withServer } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// PROJCACHE_REACT_PEERS=oldest bundles the page with the floors of the binding's peer ranges
// (React 18.2, React Query 5.0: test/oldest/), else with the current ones of package.json.
const oldest = process.env.PROJCACHE_REACT_PEERS === 'oldest';
const peersFromOldest = {
  name: 'oldest-peers',
  setup(build) {
    build.onResolve({ filter: /^(react|react-dom|@tanstack\/react-query)(\/.*)?$/ }, (args) =>
      args.pluginData === 'oldest' ? undefined
        : build.resolve(args.path, { kind: args.kind, resolveDir: path.join(here, 'oldest'), pluginData: 'oldest' }));
  },
};

test(`a React Query page shows a change on disk without polling (${oldest ? 'oldest' : 'current'} React and React Query)`,
     { timeout: 90_000 }, async () => {
  const bundle = await esbuild.build({
    entryPoints: [path.join(here, 'react_app.jsx')], bundle: true, format: 'esm', write: false, jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error', plugins: oldest ? [peersFromOldest] : [],
  });
  const text = bundle.outputFiles[0].text;
  // The bundle carries the React it was meant to (React puts its version in the build).
  assert.ok(text.includes(oldest ? '"18.2.0"' : '"19.0.0"'), 'the bundle has another React than intended');
  await withServer({}, async ({ world, srv }) => {
    const browser = await chromium.launch({
      executablePath: findChromium(),
      // A page fulfilled by the test has no address, so Chromium's local-network checks would take
      // it for a public site reaching into 127.0.0.1; the real page comes from the server itself.
      args: [...CHROMIUM_ARGS, '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests'],
    });
    try {
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      // The page comes from the server's own origin (same-origin REST and WebSocket, as SkillMeat's
      // proxy gives its UI), served by the test.
      await page.route(srv.url + '/react-test', (r) => r.fulfill({ contentType: 'text/html',
        body: '<!doctype html><div id="root"></div><script type="module" src="/react-test.js"></script>' }));
      await page.route(srv.url + '/react-test.js', (r) => r.fulfill({ contentType: 'text/javascript', body: text }));
      await page.goto(srv.url + '/react-test');
      await page.waitForSelector('#state:has-text("live")').catch((e) => { throw new Error(e.message + '\npage errors: ' + problems.join('\n')); });
      await page.waitForSelector('#projects li:has-text("Web App: modified 1")');
      assert.equal(await page.evaluate(() => window.__fetches), 1);
      await page.evaluate(() => {
        new MutationObserver(() => {
          if (!window.__shownAt && document.body.textContent.includes('Web App: modified 2')) window.__shownAt = Date.now();
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });

      const editedAt = Date.now();
      fs.appendFileSync(world.skill, 'local edit\n');
      await page.waitForSelector('#projects li:has-text("Web App: modified 2")', { timeout: 20_000 });
      const shownAt = await page.evaluate(() => window.__shownAt);
      // One refetch, caused by the event (the page has no timer that refetches).
      assert.equal(await page.evaluate(() => window.__fetches), 2);
      console.log(`edit -> shown in the page: ${shownAt - editedAt} ms (server debounce 50 ms)`);
    } finally {
      await browser.close();
    }
  });
});
