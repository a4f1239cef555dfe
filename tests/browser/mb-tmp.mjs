import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
const kind = process.argv[2];
const FIREFOX = process.env.FF;
const b = kind === 'chromium' ? await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }) : await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
import http from 'node:http';
const srv = http.createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end('<p>x'); }).listen(0, '127.0.0.1');
await new Promise((r) => srv.on('listening', r));
const page = await b.newPage();
await page.goto(`http://127.0.0.1:${srv.address().port}/`);

// data: URL is not secure context; use about:blank? use https? WebCrypto needs secure context.
const r = await page.evaluate(async () => {
  const out = {};
  const MiB = 1 << 20, N = 100, P = Number(1) * MiB;
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const ctr = await crypto.subtle.importKey('raw', raw, 'AES-CTR', false, ['decrypt']);
  const gcm = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  const cbc = await crypto.subtle.importKey('raw', raw, 'AES-CBC', false, ['encrypt', 'decrypt']);
  const data = new Uint8Array(P); for (let i = 0; i < P; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const counter = new Uint8Array(16), iv = new Uint8Array(12), ivc = new Uint8Array(16);
  const time = async (name, f) => { const t = performance.now(); await f(); out[name] = Math.round(N * P / MiB / ((performance.now() - t) / 1000)) + ' MiB/s'; };
  await time('ctr seq', async () => { for (let i = 0; i < N; i++) await crypto.subtle.decrypt({ name: 'AES-CTR', counter, length: 32 }, ctr, data); });
  await time('ctr 4 in flight', async () => { const q = []; for (let i = 0; i < N; i++) { q.push(crypto.subtle.decrypt({ name: 'AES-CTR', counter, length: 32 }, ctr, data)); if (q.length >= 4) await q.shift(); } await Promise.all(q); });
  await time('gcm aad seq', async () => { for (let i = 0; i < N; i++) await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: data }, gcm, new Uint8Array(0)); });
  await time('ctr+gcm 4 in flight', async () => { const q = []; for (let i = 0; i < N; i++) { q.push(crypto.subtle.decrypt({ name: 'AES-CTR', counter, length: 32 }, ctr, data), crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: data }, gcm, new Uint8Array(0))); if (q.length >= 8) { await q.shift(); await q.shift(); } } await Promise.all(q); });
  const enc = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: ivc }, cbc, data.subarray(0, P - 16)));
  await time('cbc seq', async () => { for (let i = 0; i < N; i++) await crypto.subtle.decrypt({ name: 'AES-CBC', iv: ivc }, cbc, enc); });
  await time('cbc 4 in flight', async () => { const q = []; for (let i = 0; i < N; i++) { q.push(crypto.subtle.decrypt({ name: 'AES-CBC', iv: ivc }, cbc, enc)); if (q.length >= 4) await q.shift(); } await Promise.all(q); });
  await time('copy slice', async () => { for (let i = 0; i < N; i++) data.slice(); });
  await time('sha256 digest 1MiB', async () => { for (let i = 0; i < N; i++) await crypto.subtle.digest('SHA-256', data); });
  return out;
});
console.log(kind, r);
await b.close(); srv.close();
