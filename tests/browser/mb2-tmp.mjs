import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
const [kind, dist = '/work/main/extension/dist/chromium'] = process.argv.slice(2);
const W = '/tmp/mb/w';
const page = `<!doctype html><script type="module">
import { openPli } from '/ext/pli/stream.js';
import { openPliToFile } from '/ext/pli/to-file.js';
import { startFilesModule } from '/ext/common/files-module.js';
import { release } from '/ext/pli/bulk.js';
window.run = async (cipher, mode) => {
  await startFilesModule();
  const blob = await (await fetch('/pli-' + cipher)).blob();
  const key = await (await fetch('/key-' + cipher)).text();
  const unwrap = async () => ({ key });
  const t0 = performance.now();
  let n = 0;
  if (mode === 'memory') {
    await openPli(blob, { unwrap, write: (b) => { n += b.length; release(b); } });
  } else {
    const r = await openPliToFile(blob, 'mb-' + Math.random(), { unwrap, sha256: mode === 'file+sha' });
    n = r.size;
  }
  return { mib_s: Math.round(n / 1048576 / ((performance.now() - t0) / 1000)), n };
};
window.ready = true;
</script>`;
const srv = http.createServer((q, r) => {
  const u = q.url;
  if (u === '/') { r.setHeader('content-type', 'text/html'); return r.end(page); }
  let f = u.startsWith('/ext/') ? path.join(dist, u.slice(5)) : path.join(W, u.slice(1));
  if (!fs.existsSync(f)) { r.statusCode = 404; return r.end(); }
  if (f.endsWith('.js')) r.setHeader('content-type', 'text/javascript');
  if (f.endsWith('.wasm')) r.setHeader('content-type', 'application/wasm');
  fs.createReadStream(f).pipe(r);
}).listen(0, '127.0.0.1');
await new Promise((r) => srv.on('listening', r));
const b = kind === 'chromium' ? await chromium.launchPersistentContext('/tmp/mb/prof-' + Date.now(), { executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }) : await puppeteer.launch({ browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true });
const p = await b.newPage();
await p.goto(`http://127.0.0.1:${srv.address().port}/`);
await p.waitForFunction(() => window.ready);
for (const mode of (process.env.MODES ?? 'memory file file+sha').split(' ')) for (const cipher of ['aes-256-gcm', 'aes256']) {
  const rs = [];
  for (let i = 0; i < 3; i++) rs.push((await p.evaluate(([c, m]) => window.run(c, m), [cipher, mode])).mib_s);
  console.log(kind, mode, cipher, rs.join(' '), 'MiB/s');
}
await b.close(); srv.close();
