// In-browser part of scripts/bench-decrypt.sh: opens a pli with the extension's
// « Ouvrir un pli » page (the WASM core parses and checks, WebCrypto runs the AES, the
// plaintext is streamed to a temporary file) through the real host and SoftHSM, and samples
// the resident memory of the whole browser process tree every 100 ms. Prints one Markdown
// table row: the time is the decryption's, from the key to the checked plaintext on disk.
// With OPENSSL_MBPS (openssl's throughput on the same file, same run), the row ends with the
// ratio of the two.
//   node tests/browser/bench-decrypt.mjs chromium|firefox KIT_DIR PLI SHA256 SIZE_LABEL CIPHER [OPENSSL_MBPS]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as driver from './driver.js';
import * as lib from './lib.js';

const [kind, kit, pli, want, label, cipher, opensslRate] = process.argv.slice(2);
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';
const world = lib.makeWorld(`bench-${kind}`);
// Use the benchmark's kit (the pli was made for its certificate 03).
world.env.SOFTHSM2_CONF = path.join(kit, 'softhsm2.conf');
const fingerprint = (() => {
  const der = execFileSync('openssl', ['x509', '-in', path.join(kit, 'pki', '03.crt'), '-outform', 'DER']);
  return execFileSync('sha256sum', { input: der }).toString().split(' ')[0];
})();

/** Resident memory (KiB) of `pid` and all its descendants. */
function treeRss(pid) {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=']).toString().trim().split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const children = new Map();
  for (const [p, pp] of out) children.set(pp, [...(children.get(pp) ?? []), p]);
  const rss = new Map(out.map(([p, , r]) => [p, r]));
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

const browser = await driver.launch(kind, world);
const self = process.pid;
try {
  const url = kind === 'chromium'
    ? `chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`
    : `moz-extension://${GECKO_UUID}/pli/pli.html`;
  let page;
  if (kind === 'chromium') {
    page = await browser.newPage(url);
  } else {
    // WebDriver BiDi may not navigate to moz-extension:// URLs: an extension page opens it,
    // here a consent window (asked for by a portal page, then cancelled).
    const server = await lib.startServer(world.dir);
    const portal = await browser.newPage(`${server.origin}/sign.html`);
    await portal.waitForFunction(() => window.parapheLoaded === true);
    const consentP = browser.expectConsent();
    await portal.evaluate(() => { window.paraphe.listCertificates().catch(() => {}); });
    const consent = await consentP;
    await consent.evaluate((u) => browser.tabs.create({ url: u }).then(() => true), url);
    await consent.cancel();
    const deadline = Date.now() + 60_000; // a hang guard: the loop ends when the page shows
    while (!page && Date.now() < deadline) {
      for (const p of await browser.rawPages()) {
        if ((await p.evaluate(() => location.href).catch(() => '')) === url) page = browser.wrap(p);
      }
      if (!page) await new Promise((r) => setTimeout(r, 150));
    }
    if (!page) throw new Error(`${url} did not open`);
    await server.close();
  }
  await page.waitFor('#file');
  if (kind === 'chromium') await page.raw.setInputFiles('#file', pli);
  else await (await page.raw.$('#file')).uploadFile(pli);
  const consentP = browser.expectConsent();
  await page.click('#open');
  const consent = await consentP;
  await consent.confirm(fingerprint, lib.PIN);
  const baseline = treeRss(self);
  let peak = baseline;
  const timer = setInterval(() => { peak = Math.max(peak, treeRss(self)); }, 100);
  await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, 30 * 60_000);
  clearInterval(timer);
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`decryption failed: ${error}`);
  const r = JSON.parse(await page.evaluate(() => document.body.dataset.result));
  if (r.sha256 !== want) throw new Error('wrong plaintext');
  const mb = fs.statSync(pli).size / 1e6;
  // `decryptSeconds`: from the key to the checked plaintext on disk; `seconds` adds reading
  // the header, the consent window, the PIN and the card (about 3 s here, driven by script).
  const rate = mb / r.decryptSeconds;
  const ratio = opensslRate ? ` | ${(rate / Number(opensslRate)).toFixed(2)}×` : '';
  console.log(`| ${label} | ${cipher} | paraphe WASM + WebCrypto in ${kind} (« Ouvrir un pli », to OPFS) | ${r.decryptSeconds.toFixed(1)} s (${r.seconds.toFixed(1)} s with consent) | ${rate.toFixed(0)} MB/s | ${(peak / 1024).toFixed(0)} MiB (browser tree; ${((peak - baseline) / 1024).toFixed(0)} MiB above idle)${ratio} |`);
} finally {
  await browser.close();
  world.cleanup();
}
