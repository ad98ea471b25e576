// What the client tests share: the real binary on a demo world, and a TCP proxy in front of it
// that a test can cut, stall or black-hole to make the network misbehave on cue.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const BIN = process.env.PROJCACHE_BINARY;
if (!BIN) throw new Error('set PROJCACHE_BINARY to the projcache binary under test');

// A demo world (projcache demo) in a fresh folder; removed by cleanup().
export function demoWorld() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'projcache-ts-'));
  execFileSync(BIN, ['demo', dir]);
  return {
    dir,
    env: { SKILLMEAT_HOME: path.join(dir, 'home'), SKILLMEAT_CACHE_SEARCH_ROOTS: path.join(dir, 'dev'),
           SKILLMEAT_CACHE_DEBOUNCE_MS: '50', SKILLMEAT_CACHE_PATH: path.join(dir, 'cache.db') },
    skill: path.join(dir, 'dev', 'webapp', '.claude', 'skills', 'canvas-design', 'SKILL.md'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// Starts `projcache serve` and resolves once it is ready (listening, and the first refresh done).
export async function startServer(world, { args = [], env = {}, port = 0 } = {}) {
  const proc = spawn(BIN, ['serve', '--port', String(port), '--exit-with-parent', 'true', ...args],
                     { env: { ...process.env, ...world.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  proc.stderr.on('data', (c) => stderr.push(c.toString()));
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const line = await Promise.race([
    new Promise((resolve) => readline.createInterface({ input: proc.stdout }).once('line', resolve)),
    exited.then(({ code }) => { throw new Error(`projcache exited ${code} before its ready line:\n${stderr.join('')}`); }),
  ]);
  const { url } = JSON.parse(line);
  // The ready line means listening; /readyz says the first refresh is done.
  await eventually(async () => (await fetch(url + '/readyz')).status === 200, 'the first refresh');
  return {
    url,
    port: Number(new URL(url).port),
    // SIGTERM: it must exit 0 with no sanitizer report (the test build runs with ASan and UBSan).
    async stop() {
      proc.kill('SIGTERM');
      const { code, signal } = await exited;
      const text = stderr.join('');
      assert.ok(!/Sanitizer|runtime error:/.test(text), 'sanitizer report from projcache:\n' + text);
      assert.equal(code, 0, `projcache exited ${code} (${signal}) on SIGTERM:\n${text}`);
    },
    // SIGKILL: a crash, as far as clients can tell.
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export async function getJson(url, apiKey) {
  const res = await fetch(url, { headers: apiKey ? { 'X-API-Key': apiKey } : {} });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  return res.json();
}

export async function post(url, body = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  return res.json();
}

// A TCP proxy to `port`. cut() resets every connection through it; stall() stops passing bytes
// from the server (the client looks like a reader that stopped reading) and resume() goes on;
// blackhole() passes nothing either way but keeps the connections open.
export async function proxy(port) {
  const pairs = new Set();
  let mode = 'pass';
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d) => { if (mode !== 'blackhole') upstream.write(d); });
    upstream.on('data', (d) => { if (mode === 'pass') client.write(d); });
    if (mode === 'stall') upstream.pause();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    connections: () => pairs.size,
    cut() {
      for (const { client, upstream } of pairs) { client.resetAndDestroy(); upstream.destroy(); }
      pairs.clear();
    },
    stall() {
      mode = 'stall';
      for (const { upstream } of pairs) upstream.pause();
    },
    resume() {
      mode = 'pass';
      for (const { upstream } of pairs) upstream.resume();
    },
    blackhole() { mode = 'blackhole'; },
    close: () => new Promise((resolve) => { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } server.close(resolve); }),
  };
}

// Resolves when pred() holds, checking on every event the caller reports through notify().
export function waiter() {
  const waits = new Set();
  return {
    notify() { for (const w of [...waits]) if (w.pred()) { waits.delete(w); clearTimeout(w.timer); w.resolve(); } },
    until(pred, what, ms = 20_000) {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => { waits.delete(w); reject(new Error(`timed out waiting for ${what}`)); }, ms);
        waits.add(w);
      });
    },
  };
}

// Polls an outside condition (a server's status, say) every 50 ms until it holds.
export async function eventually(pred, what, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A demo world and a server on it (and a proxy in front when asked), for the length of fn;
// everything is stopped and removed afterwards, and the server must stop cleanly.
export async function withServer({ args = [], env = {}, withProxy = false } = {}, fn) {
  const world = demoWorld();
  let srv;
  let px;
  try {
    srv = await startServer(world, { args, env });
    if (withProxy) px = await proxy(srv.port);
    const ctx = { world, srv, px, restart: async () => { srv = ctx.srv = await startServer(world, { args, env, port: srv.port }); } };
    await fn(ctx);
  } finally {
    if (px) await px.close();
    if (srv) await srv.stop();
    world.cleanup();
  }
}

// Chromium: $CHROMIUM, else the first of the usual names on PATH.
export function findChromium() {
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
  throw new Error("no Chromium found: install Debian's chromium or set CHROMIUM to its path");
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                              '--disable-background-networking', '--disable-component-update', '--disable-sync'];
