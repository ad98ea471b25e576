// The event client against the real binary: filters, resume after a lost connection, one resync
// after a server restart, a reader too slow for the server's queue, a dead connection, the API key.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import WebSocket from 'ws';

import { EventStream, EVENT_DETAILS, EVENT_TYPES, backoffDelay, eventsUrl } from '../dist/index.js';
import { eventually, getJson, post, waiter, withServer } from './support.mjs';

const fast = { backoff: { initialMs: 20, maxMs: 200 } };

// Streams a test opened; stopped after it, pass or fail, so a failed test cannot keep the
// process alive with reconnect timers.
const opened = new Set();
afterEach(() => {
  for (const s of opened) s.stop();
  opened.clear();
});

// A stream that records what it was given.
function recorder(opts) {
  const rec = { events: [], resyncs: [], states: [], disconnects: [], w: waiter() };
  rec.stream = new EventStream({
    WebSocket, ...fast, ...opts,
    onEvent: (e) => { rec.events.push(e); rec.w.notify(); },
    onResync: (e) => { rec.resyncs.push(e); rec.w.notify(); },
    onState: (s) => { rec.states.push(s); rec.w.notify(); },
    onDisconnect: (why) => { rec.disconnects.push(why); rec.w.notify(); },
  });
  opened.add(rec.stream);
  rec.live = () => rec.w.until(() => rec.stream.state === 'live', 'the stream to be live');
  return rec;
}

// Every event as the server documents it (EVENT_DETAILS), so the types cannot drift from it.
function assertDocumented(ev) {
  assert.ok(EVENT_TYPES.includes(ev.type), `unknown type ${ev.type}`);
  for (const k of ['seq', 'type', 'timestamp', 'project_id', 'changes_detected', 'error', 'details']) assert.ok(k in ev, `${ev.type} lacks ${k}`);
  const { required, optional } = EVENT_DETAILS[ev.type];
  const extra = Object.keys(ev.details).filter((k) => !['added', 'removed', 'changed'].includes(k));
  for (const k of required) assert.ok(extra.includes(k), `${ev.type} details lack ${k}: ${JSON.stringify(ev)}`);
  for (const k of extra) assert.ok(required.includes(k) || optional.includes(k), `${ev.type} details.${k} is not documented`);
}

function touch(file, text = 'edit\n') { fs.appendFileSync(file, text); }

test('backoff doubles up to its cap, with jitter below the base', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 100, 1000, 0.5, () => 0)), [100, 200, 400, 800, 1000]);
  assert.equal(backoffDelay(2, 100, 1000, 0.5, () => 1), 200);
  assert.equal(eventsUrl('http://h:1/'), 'ws://h:1/api/v1/cache/events');
  assert.equal(eventsUrl('https://h'), 'wss://h/api/v1/cache/events');
});

test('filters by type and project; every event is documented', { timeout: 60_000 }, () => withServer({}, async ({ world, srv }) => {
  const projects = await getJson(srv.url + '/api/v1/cache/projects');
  const webapp = projects.items.find((p) => p.name === 'Web App').id;
  const other = projects.items.find((p) => p.id !== webapp).id;
  const all = recorder({ url: srv.url });
  const mine = recorder({ url: srv.url, types: ['changes_detected'], projectIds: [webapp] });
  const others = recorder({ url: srv.url, projectIds: [other] });
  await Promise.all([all.live(), mine.live(), others.live()]);
  touch(world.skill);
  await mine.w.until(() => mine.events.length === 1, 'changes_detected of Web App');
  assert.equal(mine.events[0].type, 'changes_detected');
  assert.equal(mine.events[0].project_id, webapp);
  // A refresh of the other project afterwards: its stream's first event is that refresh's, so
  // nothing of Web App's came before it.
  await post(srv.url + '/api/v1/cache/refresh', { project_id: other, force: true });
  await others.w.until(() => others.events.some((e) => e.type === 'refresh_completed'), 'the other refresh');
  assert.ok(others.events.every((e) => e.project_id === other), JSON.stringify(others.events));
  await all.w.until(() => all.events.filter((e) => e.type === 'refresh_completed').length >= 2, 'both refreshes');
  for (const e of all.events) assertDocumented(e);
  assert.ok(mine.events.every((e) => e.type === 'changes_detected' && e.project_id === webapp));
  for (const r of [all, mine, others]) r.stream.stop();
  assert.equal(all.stream.state, 'stopped');
}));

test('a lost connection resumes where it left off: the missed events, once, in order', { timeout: 60_000 },
     () => withServer({ args: ['--bench-routes'], withProxy: true }, async ({ srv, px }) => {
  // Only the synthetic events; `ref` reads them straight from the server, never cut.
  const rec = recorder({ url: px.url, projectIds: ['bench'] });
  const ref = recorder({ url: srv.url, projectIds: ['bench'] });
  await Promise.all([rec.live(), ref.live()]);
  await post(srv.url + '/api/v1/bench/publish?n=3&size=10');
  await rec.w.until(() => rec.events.length === 3, 'three events');
  px.cut();
  await rec.w.until(() => rec.disconnects.length === 1, 'the disconnect');
  await post(srv.url + '/api/v1/bench/publish?n=5&size=10'); // while it is away
  await rec.w.until(() => rec.events.length === 8, 'the five missed events');
  await ref.w.until(() => ref.events.length === 8, 'the reference stream');
  assert.deepEqual(rec.events.map((e) => e.seq), ref.events.map((e) => e.seq), 'a gap or a repeat');
  assert.equal(rec.resyncs.length, 0);
  rec.stream.stop();
  ref.stream.stop();
}));

test('a server restart ends in exactly one resync, then live events', { timeout: 90_000 }, () => withServer({}, async (ctx) => {
  const { world, srv } = ctx;
  const rec = recorder({ url: srv.url });
  await rec.live();
  const epoch = rec.stream.epoch;
  touch(world.skill);
  await rec.w.until(() => rec.events.some((e) => e.type === 'changes_detected'), 'an event before the restart');
  await srv.kill();
  await rec.w.until(() => rec.disconnects.length >= 1, 'the disconnect');
  await ctx.restart();
  await rec.w.until(() => rec.resyncs.length === 1 && rec.stream.state === 'live', 'the resync');
  assert.notEqual(rec.stream.epoch, epoch);
  const before = rec.events.length;
  touch(world.skill);
  await rec.w.until(() => rec.events.slice(before).some((e) => e.type === 'changes_detected'), 'a live event after the resync');
  assert.equal(rec.resyncs.length, 1);
  rec.stream.stop();
}));

test('a reader too slow for the server queue is dropped, comes back and misses nothing', { timeout: 90_000 },
     () => withServer({ args: ['--bench-routes'], env: { SKILLMEAT_CACHE_WS_QUEUE_MESSAGES: '64' }, withProxy: true },
                    async ({ srv, px }) => {
  const rec = recorder({ url: px.url, projectIds: ['bench'] });
  const ref = recorder({ url: srv.url, projectIds: ['bench'] });
  await Promise.all([rec.live(), ref.live()]);
  px.stall();
  // 20 MB: more than the socket buffers and the 64-message queue hold, less than the 32 MB the
  // server keeps for replay. The server closes this reader (1008).
  await post(srv.url + '/api/v1/bench/publish?n=2500&size=8000');
  await eventually(async () => (await getJson(srv.url + '/api/v1/cache/status')).dropped_clients >= 1,
                   'the server to drop the stalled reader');
  px.resume();
  await rec.w.until(() => rec.events.length >= 2500, 'all 2,500 events', 60_000);
  await ref.w.until(() => ref.events.length >= 2500, 'the reference stream', 60_000);
  assert.deepEqual(rec.events.map((e) => e.seq), ref.events.map((e) => e.seq), 'a gap or a repeat');
  ref.stream.stop();
  // Its 1008 close frame reaches it when it reads again in the server's grace period; later, the
  // connection just ends. Either way it reconnected and resumed.
  assert.ok(rec.disconnects.length >= 1);
  assert.equal(rec.resyncs.length, 0);
  rec.stream.stop();
}));

test('a connection that stops answering is found by the ping and replaced', { timeout: 60_000 },
     () => withServer({ args: ['--bench-routes'], withProxy: true }, async ({ srv, px }) => {
  const rec = recorder({ url: px.url, heartbeat: { intervalMs: 200, timeoutMs: 300 } });
  await rec.live();
  px.blackhole();
  await rec.w.until(() => rec.disconnects.includes('no answer to a ping'), 'the dead connection to be noticed');
  px.resume();
  await post(srv.url + '/api/v1/bench/publish?n=2&size=10');
  await rec.w.until(() => rec.events.length === 2, 'events on the new connection');
  assert.equal(rec.resyncs.length, 0);
  rec.stream.stop();
}));

test('the API key goes as the apikey.<key> subprotocol; a wrong one never gets in', { timeout: 60_000 },
     () => withServer({ args: ['--api-key', 's3cret'] }, async ({ srv }) => {
  const wrong = recorder({ url: srv.url, apiKey: 'nope' });
  const right = recorder({ url: srv.url, apiKey: 's3cret' });
  await right.live();
  await wrong.w.until(() => wrong.disconnects.length >= 2, 'the wrong key to be refused twice');
  assert.notEqual(wrong.stream.state, 'live');
  wrong.stream.stop();
  right.stream.stop();
}));
