// Bundle budget: the JavaScript a first load fetches (the entry and what it imports
// statically, plus one language catalog), gzip-compressed, must stay under 300 KB.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'app');
const BUDGET = 300 * 1024;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const entry = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const files = readdirSync(join(dist, 'assets'));
let first = 0, all = 0;
const rows = [];
for (const f of files) {
  const b = readFileSync(join(dist, 'assets', f));
  const gz = gzipSync(b, { level: 9 }).length, br = brotliCompressSync(b).length;
  rows.push([f, b.length, gz, br]);
  if (f.endsWith('.js')) {
    all += gz;
    if (entry.includes('assets/' + f)) first += gz;
  }
}
const catalog = Math.max(...rows.filter((r) => /^(ru|en)-.*\.js$/.test(r[0])).map((r) => r[2]), 0);
first += catalog;
for (const [f, raw, gz, br] of rows.sort((a, b) => b[1] - a[1])) console.log(`${f.padEnd(28)} ${String(raw).padStart(8)} B  gzip ${String(gz).padStart(7)} B  brotli ${String(br).padStart(7)} B`);
console.log(`first load JS (entry + largest catalog), gzip: ${(first / 1024).toFixed(1)} KB of ${BUDGET / 1024} KB budget; all JS gzip: ${(all / 1024).toFixed(1)} KB`);
if (first > BUDGET) {
  console.error('bundle budget exceeded');
  process.exit(1);
}
