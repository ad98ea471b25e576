// GET /openapi.json against the real server: every route it documents is called as documented
// (its examples, a real project id), and each answer is checked against the documented schema:
// the status is one the document lists, every field the answer carries is documented, and every
// field documented as required is there. SkillMeat generates its web SDK from OpenAPI, so this is
// what its tools would believe about us.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

import { BIN, withServer } from './support.mjs';

const API_MD = new URL('../../../docs/api.md', import.meta.url);

// The JSON Schema subset the document uses: $ref, type (one or a list), enum, properties with
// required and additionalProperties: false, items.
function check(doc, schema, value, where, errors) {
  if (schema.$ref) return check(doc, doc.components.schemas[schema.$ref.split('/').pop()], value, where, errors);
  if (schema.type) {
    const types = [].concat(schema.type);
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array'
      : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
      errors.push(`${where}: ${actual} ${JSON.stringify(value)}, documented as ${types.join('|')}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${where}: ${JSON.stringify(value)} not in ${schema.enum}`);
  if (value && typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    for (const k of schema.required ?? []) if (!(k in value)) errors.push(`${where}.${k}: documented as required, missing`);
    for (const [k, v] of Object.entries(value)) {
      if (k in schema.properties) check(doc, schema.properties[k], v, `${where}.${k}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${where}.${k}: not documented`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => check(doc, schema.items, v, `${where}[${i}]`, errors));
}

async function call(base, method, path, body) {
  const init = { method };
  if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  return fetch(base + path, init);
}

// Checks one answer against the operation's documented responses; returns what was seen.
async function conforms(doc, op, res, where) {
  const documented = op.responses[String(res.status)];
  assert.ok(documented, `${where}: HTTP ${res.status} is not documented (${Object.keys(op.responses)})`);
  const [type] = Object.keys(documented.content);
  assert.ok((res.headers.get('content-type') || '').startsWith(type.split(';')[0]), `${where}: ${res.headers.get('content-type')} vs ${type}`);
  if (!type.startsWith('application/json')) return { status: res.status };
  const body = await res.json();
  const errors = [];
  check(doc, documented.content[type].schema, body, where, errors);
  assert.deepEqual(errors, [], `${where}:\n  ${errors.join('\n  ')}`);
  return { status: res.status, body };
}

test('openapi.json documents every route, and the server answers as documented', { timeout: 120_000 }, () => withServer({}, async ({ srv }) => {
  const doc = await (await fetch(srv.url + '/openapi.json')).json();
  assert.equal(doc.openapi, '3.1.0');
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
  assert.deepEqual(ops.filter((o) => o.op['x-undocumented']).map((o) => `${o.method} ${o.path}`), []);
  assert.equal(new Set(ops.map((o) => o.op.operationId)).size, ops.length, 'operationIds are unique');
  for (const route of ['/api/v1/cache/status', '/api/v1/cache/projects/{id}', '/api/v1/cache/search', '/api/v1/projects/cache/clear',
                       '/api/v1/cache/events', '/healthz', '/openapi.json'])
    assert.ok(doc.paths[route], `${route} is documented`);
  assert.ok(!doc.paths['/api/v1/bench/publish'], 'test-only routes stay out');

  const projects = await (await fetch(srv.url + '/api/v1/cache/projects')).json();
  const id = projects.items.find((p) => p.name === 'Web App').id;
  const seen = new Map();
  // Reads first, then the writes, the clear last (it empties and refills the cache).
  const order = (o) => (o.path.endsWith('/clear') ? 2 : o.method === 'get' ? 0 : 1);
  for (const { path, method, op } of ops.sort((a, b) => order(a) - order(b))) {
    let url = path.replace('{id}', encodeURIComponent(id));
    const query = new URLSearchParams();
    for (const p of op.parameters ?? []) {
      if (p.in === 'path' && p.example !== undefined) url = url.replace(`{${p.name}}`, p.example);
      if (p.in === 'query' && p.required) {
        assert.ok(p.example !== undefined, `${method} ${path}: required parameter ${p.name} has an example`);
        query.set(p.name, p.example);
      }
    }
    if ([...query].length) url += '?' + query;
    const example = op.requestBody?.content['application/json'].example;
    const where = `${method.toUpperCase()} ${url}`;
    seen.set(`${method} ${path}`, await conforms(doc, op, await call(srv.url, method.toUpperCase(), url, example), where));
  }
  // Lists were seen with items in them, so the item schemas were checked too.
  for (const list of ['get /api/v1/cache/projects', 'get /api/v1/cache/artifacts', 'get /api/v1/cache/stale-artifacts', 'get /api/v1/cache/search'])
    assert.ok(seen.get(list).body.items.length > 0, `${list} had items`);
  assert.ok(seen.get('get /api/v1/cache/projects/{id}').body.artifacts.length > 0);

  // Documented errors are what the server sends.
  const byPath = (p, m) => doc.paths[p][m];
  await conforms(doc, byPath('/api/v1/cache/projects/{id}', 'get'), await call(srv.url, 'GET', '/api/v1/cache/projects/bm9wZQ=='), '404');
  await conforms(doc, byPath('/api/v1/cache/search', 'get'), await call(srv.url, 'GET', '/api/v1/cache/search'), '422');
  await conforms(doc, byPath('/api/v1/cache/stale-artifacts', 'get'), await call(srv.url, 'GET', '/api/v1/cache/stale-artifacts?sort_by=size'), '400');
  await conforms(doc, byPath('/api/v1/cache/refresh', 'post'), await call(srv.url, 'POST', '/api/v1/cache/refresh', { project_id: 'bm9wZQ==' }), 'refresh 404');
  await conforms(doc, byPath('/api/v1/cache/projects', 'post'), await call(srv.url, 'POST', '/api/v1/cache/projects', { path: 3 }), 'register 422');
}));

// docs/api.md, the reference people read, names every route the document has and every option
// `projcache serve --help` lists.
test('docs/api.md lists every route and every serve option', { timeout: 60_000 }, () => withServer({}, async ({ srv }) => {
  const md = fs.readFileSync(API_MD, 'utf8');
  const doc = await (await fetch(srv.url + '/openapi.json')).json();
  const missing = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item)) if (!md.includes(`${method.toUpperCase()} ${path}`)) missing.push(`${method.toUpperCase()} ${path}`);
  const help = execFileSync(BIN, ['serve', '--help'], { encoding: 'utf8' });
  const flags = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(flags.length > 25, `serve --help lists its flags (${flags.length})`);
  for (const flag of flags) if (!md.includes('`' + flag)) missing.push(flag);
  assert.deepEqual(missing, [], 'missing from docs/api.md');
}));
