// Page load with and without the extension (the radar on, then off), on a heavy page: about
// 25 000 elements, 150 inline scripts of 4 KiB, 100 external scripts, 6 000 links, and a
// script that adds 10 000 more elements after load (what the radar's MutationObserver sees).
// Headless Chromium, served from 127.0.0.1; each load in a fresh tab, the order of the
// configurations interleaved round by round. Reports the median and 90th percentile of
// `loadEventEnd` and of « settled » (loadEventEnd + the post-load DOM work, measured in the page).
// Prints one Markdown table.
//   node tests/browser/bench-radar.mjs [ROUNDS]      (default 15)
// Needs scripts/build-extension.sh (no host: the radar does not need it).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import * as lib from './lib.js';

const ROUNDS = Number(process.argv[2] ?? 15);
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));

function heavyPage() {
  const filler = 'var x = [' + Array.from({ length: 600 }, (_, i) => i * 7).join(',') + '];\n';
  const inline = Array.from({ length: 150 }, (_, i) => `<script>/* block ${i} */ ${filler}</script>`).join('\n');
  const external = Array.from({ length: 100 }, (_, i) => `<script src="/lib/module-${i}.js"></script>`).join('\n');
  const rows = Array.from({ length: 4000 }, (_, i) => `<tr><td>${i}</td><td><a href="/acte/${i}">Acte ${i}</a></td><td><span>Délibération</span></td><td><em>2026</em></td></tr>`).join('');
  const links = Array.from({ length: 2000 }, (_, i) => `<li><a href="/doc/${i}.pdf">Document ${i}</a></li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Heavy</title>${external}</head><body>
<table>${rows}</table><ul>${links}</ul>${inline}
<script>
window.addEventListener('load', () => {
  const t0 = performance.now();
  const box = document.createElement('div');
  document.body.append(box);
  for (let i = 0; i < 50; i++) {
    const part = document.createElement('section');
    part.innerHTML = Array.from({ length: 100 }, (_, j) => '<p><a href="/x/' + i + '/' + j + '">item</a></p>').join('');
    box.append(part);
  }
  requestAnimationFrame(() => setTimeout(() => { window.settled = performance.now(); window.domWork = performance.now() - t0; }, 0));
});
</script></body></html>`;
}

async function serve() {
  const page = heavyPage();
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/lib/')) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(`window.m${req.url.length} = 1;`);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}/heavy.html`, size: Buffer.byteLength(page) };
}

async function launch(withExtension, radar) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paraphe-bench-radar-'));
  const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'];
  if (withExtension) args.push(`--disable-extensions-except=${lib.EXT.chromium}`, `--load-extension=${lib.EXT.chromium}`);
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args });
  if (withExtension) {
    const isOurs = (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`);
    const worker = context.serviceWorkers().find(isOurs) ?? await context.waitForEvent('serviceworker', { predicate: isOurs });
    await lib.storeChromium(context, { radar });
    for (;;) {
      const ids = await worker.evaluate(async () => (await chrome.scripting.getRegisteredContentScripts()).map((s) => s.id));
      if (ids.includes('radar') === radar) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { context, dir };
}

async function once(context, url) {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.settled !== undefined);
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { load: nav.loadEventEnd, settled: window.settled };
  });
  await page.close();
  return r;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
};

const { server, url, size } = await serve();
const configs = [['without the extension', false, false], ['with Paraphe, radar off', true, false], ['with Paraphe, radar on', true, true]];
const running = [];
for (const [name, ext, radar] of configs) running.push({ name, ...(await launch(ext, radar)), load: [], settled: [] });
for (const c of running) await once(c.context, url); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  if (process.env.BENCH_VERBOSE) console.error(`round ${i + 1}/${ROUNDS}`);
  for (const c of running) {
    const r = await once(c.context, url);
    c.load.push(r.load);
    c.settled.push(r.settled);
  }
}
console.log(`Heavy page: ${(size / 1024 / 1024).toFixed(1)} MiB of HTML, ${ROUNDS} loads per configuration, ${os.cpus().length} cores (${os.cpus()[0].model}).\n`);
console.log('| configuration | load (median) | load (p90) | settled after post-load DOM work (median) | settled (p90) |');
console.log('|---|---|---|---|---|');
for (const c of running) {
  const l = stats(c.load);
  const s = stats(c.settled);
  console.log(`| ${c.name} | ${l.median.toFixed(0)} ms | ${l.p90.toFixed(0)} ms | ${s.median.toFixed(0)} ms | ${s.p90.toFixed(0)} ms |`);
  await c.context.close();
  fs.rmSync(c.dir, { recursive: true, force: true });
}
server.close();
