// Compiles the client (tsc, strict) into dist/ and copies the core module to the dashboard's
// assets (src/net/assets/projcache-client.js), which the binary embeds and serves as it is.
//   node scripts/build.mjs          build, and update the committed asset
//   node scripts/build.mjs --check  build, and fail when the committed asset differs from it
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const asset = path.join(here, '..', '..', 'src', 'net', 'assets', 'projcache-client.js');
const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  console.error('typescript is not installed here: run npm ci in clients/typescript (scripts/deps.sh --test does)');
  process.exit(2);
}
execFileSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.json')], { stdio: 'inherit' });
const built = fs.readFileSync(path.join(here, 'dist', 'index.js'), 'utf8');
const header = '// Generated from clients/typescript/src/index.ts by clients/typescript/scripts/build.mjs: edit the\n' +
               '// source and rebuild; a test fails when this file and its source disagree.\n';
if (process.argv.includes('--check')) {
  const committed = fs.existsSync(asset) ? fs.readFileSync(asset, 'utf8') : '';
  if (committed !== header + built) {
    console.error(`${path.relative(process.cwd(), asset)} is not the build of clients/typescript/src/index.ts: ` +
                  'run node clients/typescript/scripts/build.mjs and commit the result');
    process.exit(1);
  }
  console.log('projcache-client.js matches its source');
} else {
  fs.writeFileSync(asset, header + built);
  console.log(`wrote ${path.relative(process.cwd(), asset)}`);
}
