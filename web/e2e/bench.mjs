// Live-board render benchmark in Debian's Chromium: the built app (dist/app) with
// the GraphQL endpoint stubbed and the board fed by a synthetic source of Q queues
// and O operators (window.__linkageBoardSource, the board's test seam). Measures the
// first render of the snapshot, then updates as the subscriptions deliver them, each
// timed from the data's arrival to the next painted frame, and the long tasks (>50 ms)
// while the waits and times in status tick for 10 s.
//   npm run build && npm run bench            (BENCH_QUEUES=50 BENCH_OPERATORS=500 BENCH_UPDATES=300)
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './lib.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'app');
const Q = Number(process.env.BENCH_QUEUES || 50), O = Number(process.env.BENCH_OPERATORS || 500), N = Number(process.env.BENCH_UPDATES || 300);
const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
await page.route('**/*', async (route) => {
  const url = new URL(route.request().url());
  if (url.pathname === '/graphql') {
    const q = JSON.parse(route.request().postData() || '{}').query || '';
    const data = q.includes('viewer')
      ? { viewer: { user: { id: '1', login: 'bench', displayName: 'Bench', language: 'en' }, roles: ['ADMIN'], permissions: [] } }
      : { queues: { edges: [] }, servers: { edges: [] } };
    return route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data }) });
  }
  const file = join(dist, url.pathname);
  if (url.pathname.startsWith('/assets/') && existsSync(file)) return route.fulfill({ contentType: types[extname(file)] || 'application/octet-stream', body: readFileSync(file) });
  return route.fulfill({ contentType: 'text/html', body: readFileSync(join(dist, 'index.html')) });
});
await page.addInitScript(() => {
  window.__linkageBoardSource = { start(onQ, onO) { window.__bench = { onQ, onO }; return () => {}; } };
});
await page.goto('http://linkage.bench/live');
await page.waitForFunction(() => window.__bench);

const result = await page.evaluate(async ({ Q, O, N }) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const statuses = ['FREE', 'ON_CALL_IN', 'ON_CALL_OUT', 'RINGING', 'PAUSED', 'FREE', 'ON_CALL_IN'];
  const ops = Array.from({ length: O }, (_, i) => ({ server: '1', operatorId: String(i + 1), interface: `PJSIP/${1000 + i}`, name: `Operator ${i + 1}`,
    status: statuses[i % statuses.length], reason: i % 7 === 4 ? 'lunch' : '', since: iso(now - (i % 600) * 1000), queues: [`q${i % Q}`, `q${(i + 7) % Q}`],
    linkedid: '', incoming: i % 13, outgoing: i % 5, missed: i % 3 }));
  const queue = (j, tick) => ({ server: '1', queueId: String(j + 1), name: `q${j}`, day: '2026-11-26', slThresholdSeconds: 20,
    waiting: Array.from({ length: (j + tick) % 6 }, (_, k) => ({ uniqueid: `${j}.${k}.${tick}`, linkedid: '', number: `7900${j}${k}`, name: '', since: iso(now - k * 15000), position: k + 1 })),
    members: Array.from({ length: Math.ceil(O / Q) * 2 }, (_, k) => { const o = ops[(j + k * Q) % O]; return { interface: o.interface, stateInterface: '', name: o.name, operatorId: o.operatorId, status: o.status, reason: o.reason, since: o.since, paused: false, inCall: false, deviceState: 1, callsTaken: k }; }),
    received: 100 + tick, answered: 90 + tick, abandoned: 10, serviceLevel: 80 + (tick % 20), avgWaitSeconds: 12, maxWaitSeconds: 95, avgTalkSeconds: 180, updatedAt: iso(now) });
  const b = window.__bench;
  let t0 = performance.now();
  b.onQ(Array.from({ length: Q }, (_, j) => queue(j, 0)), true);
  b.onO(ops, true);
  await frame();
  const first = performance.now() - t0;
  const rows = document.querySelectorAll('[data-testid=operators] tbody tr').length;
  const cards = document.querySelectorAll('[data-testid=queue]').length;
  // Updates as the hub sends them: a few operators changed, or a few queues changed.
  const times = [], scripts = [];
  for (let i = 1; i <= N; i++) {
    t0 = performance.now();
    if (i % 2) {
      const changed = Array.from({ length: 10 }, (_, k) => { const o = ops[(i * 37 + k * 11) % O]; return { ...o, status: statuses[(i + k) % statuses.length], since: iso(Date.now()) }; });
      b.onO(changed, false);
    } else {
      b.onQ(Array.from({ length: 3 }, (_, k) => queue((i + k * 17) % Q, i)), false);
    }
    await new Promise((r) => setTimeout(r, 0)); // Preact renders in a microtask: done by now
    scripts.push(performance.now() - t0);
    await frame();
    times.push(performance.now() - t0);
  }
  scripts.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
  // Ticking: long tasks while 500 times in status and the waits count up for 10 s.
  let long = 0, longest = 0;
  const po = new PerformanceObserver((l) => { for (const e of l.getEntries()) { long++; longest = Math.max(longest, e.duration); } });
  po.observe({ type: 'longtask', buffered: false });
  await new Promise((r) => setTimeout(r, 10_000));
  po.disconnect();
  return { cards, rows, first, median: pct(0.5), p95: pct(0.95), max: times[times.length - 1], long, longest,
    scriptMedian: scripts[Math.floor(scripts.length / 2)], scriptP95: scripts[Math.floor(scripts.length * 0.95)] };
}, { Q, O, N });

const f = (x) => x.toFixed(1);
console.log(`live board, ${result.cards} queues x ${result.rows} operators, Chromium ${browser.version()}`);
console.log(`first render of the snapshot: ${f(result.first)} ms`);
console.log(`update (data in -> frame painted), ${N} updates: median ${f(result.median)} ms, p95 ${f(result.p95)} ms, max ${f(result.max)} ms`);
console.log(`of which script (diff and DOM writes): median ${f(result.scriptMedian)} ms, p95 ${f(result.scriptP95)} ms`);
console.log(`ticking for 10 s: ${result.long} long tasks (>50 ms), longest ${f(result.longest)} ms`);
await browser.close();
