// In-browser part of scripts/bench-decrypt.sh: opens a pli through the real host and
// SoftHSM, two ways (PARAPHE_BENCH_PLI_VIA, default both): the page API's `decrypt` from a
// portal page (the extension frame: the WASM core parses and checks, WebCrypto runs the AES,
// the plaintext comes back as a Blob), and the extension's « Ouvrir un pli » page (the same
// decryption, the plaintext streamed to a temporary file), sampling the browser's memory.
// Prints one Markdown table row each: the page API's time is from the PIN's confirmation to
// the Blob in the page, the page's from the key to the checked plaintext on disk.
// Each way runs PARAPHE_BENCH_REPEAT times (default 3) in the same browser; the row gives the
// median time (and the others), the largest memory growth. With OPENSSL_MBPS (openssl's
// median throughput on the same file, same run), the row ends with the ratio of the two.
//   node tests/browser/bench-decrypt.mjs chromium|firefox KIT_DIR PLI SHA256 SIZE_LABEL CIPHER [OPENSSL_MBPS]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as driver from './driver.js';
import * as lib from './lib.js';
import { sampleMemory } from './memory.js';

const [kind, kit, pli, want, label, cipher, opensslRate] = process.argv.slice(2);
/** Which ways of opening to time: the page API, the « Ouvrir un pli » page, or both. */
const via = (process.env.PARAPHE_BENCH_PLI_VIA ?? 'page-api pli-page').split(/\s+/);
const repeat = Math.max(1, Number(process.env.PARAPHE_BENCH_REPEAT ?? 3));
/**
 * The portal page of every run of the page API: one tab for all of them, as a person's
 * (a new tab per run made Firefox start a spare content process while the next run was
 * sampled: +90 MiB that were not the decryption's).
 * @type {{page: any, server: any} | null}
 */
let portal = null;
/** The bare page of readAlone, once open. @type {{page: any, server: any} | null} */
let bare = null;
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';
const world = lib.makeWorld(`bench-${kind}`);
// Use the benchmark's kit (the pli was made for its certificate 03).
world.env.SOFTHSM2_CONF = path.join(kit, 'softhsm2.conf');
const fingerprint = (() => {
  const der = execFileSync('openssl', ['x509', '-in', path.join(kit, 'pki', '03.crt'), '-outform', 'DER']);
  return execFileSync('sha256sum', { input: der }).toString().split(' ')[0];
})();

const browser = await driver.launch(kind, world);
const self = process.pid;
/** « Ouvrir un pli », once open (pliTabOnce). */
let pliTab = null;
const mb = fs.statSync(pli).size / 1e6;
const ratio = (rate) => (opensslRate ? ` | ${(rate / Number(opensslRate)).toFixed(2)}×` : '');
const MiB = (kib) => (kib / 1024).toFixed(0);
/**
 * The largest memory growth of `runs` (each with `grown`, sampleMemory's), as the rows say it.
 * Firefox: its command lines do not tell the extension's content process from a tab's (and
 * its extension frame runs in the page's process here): the largest one, and all.
 * @param {{grown: Record<string, number>}[]} runs
 */
function growthOf(runs) {
  const most = (k) => MiB(Math.max(...runs.map((r) => r.grown[k])) * 1024);
  const started = Math.max(...runs.map((r) => r.grown.started)) > 0 ? `; a process the browser started meanwhile, not counted: ${most('started')} MiB` : '';
  return (kind === 'firefox'
    ? `growth: the largest content process ${most('onePage')} MiB (all content processes ${most('page')} MiB), parent and others ${most('other')} MiB`
    : `growth: page ${most('page')} MiB, extension ${most('extension')} MiB, browser and others ${most('other')} MiB`) + started;
}
/** The median of `runs` by `key`, and all of its values in the order they ran ("a / b / c s"). */
function median(runs, key) {
  const sorted = [...runs].sort((a, b) => a[key] - b[key]);
  return { mid: sorted[(sorted.length - 1) >> 1], all: `${runs.map((r) => r[key].toFixed(2)).join(' / ')} s` };
}
try {
  if (via.includes('page-api')) {
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await pageApi());
    const { mid, all } = median(runs, 'secs');
    const rate = mb / mid.secs;
    const growth = growthOf(runs);
    console.log(`| ${label} | ${cipher} | paraphe in ${kind}, page API \`decrypt\` (extension frame; plaintext ${mid.onDisk ? 'File in OPFS' : 'Blob parts'} to the page) | ${mid.secs.toFixed(2)} s (${all}) | ${rate.toFixed(0)} MB/s | ${growth}${mid.onDisk ? '' : ' (holds the plaintext Blob)'}${ratio(rate)} |`);
    await portal?.page.close();
    await portal?.server.close();
    // The same file read by a bare page, for reference: what the browser's own reading costs.
    const alone = [];
    for (let i = 0; i < repeat; i++) alone.push(await readAlone());
    const a = median(alone, 'secs');
    console.log(`| ${label} | ${cipher} | for reference: ${kind} reading the same file in a worker of a bare page (another site), nothing done with the bytes | ${a.mid.secs.toFixed(2)} s (${a.all}) | ${(mb / a.mid.secs).toFixed(0)} MB/s | ${growthOf(alone)} | |`);
    await bare?.page.close();
    await bare?.server.close();
  }
  if (via.includes('pli-page')) {
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await pliPage());
    const { mid, all } = median(runs, 'decryptSeconds');
    const rate = mb / mid.decryptSeconds;
    console.log(`| ${label} | ${cipher} | paraphe in ${kind}, « Ouvrir un pli » (to OPFS, SHA-256 of the plaintext) | ${mid.decryptSeconds.toFixed(2)} s (${all}; ${mid.seconds.toFixed(1)} s with consent) | ${rate.toFixed(0)} MB/s | ${growthOf(runs)}${ratio(rate)} |`);
  }
} finally {
  await browser.close();
  world.cleanup();
}

/**
 * The page API: `paraphe.decrypt(file)` from a portal page, the file chosen in an
 * <input type=file> (a File on disk, as a person would give it). Timed from the PIN's
 * confirmation in the consent window (so: the card's unwrap, then the bulk) to the
 * plaintext (File or Blob) in the page; checked by its SHA-256 (WebCrypto, after the timing).
 */
async function pageApi() {
  if (!portal) {
    const server = await lib.startServer(world.dir);
    const page = await browser.newPage(`${server.origin}/sign.html`);
    await page.waitForFunction(() => window.parapheLoaded === true);
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'file';
      input.id = 'pli';
      document.body.append(input);
    });
    portal = { page, server };
  }
  const { page } = portal;
  await page.chooseFile('#pli', pli);
  const consentP = browser.expectConsent();
  await page.evaluate(() => {
    window.benchDone = null;
    window.paraphe.decrypt(document.getElementById('pli').files[0]).then(
      (r) => { window.benchDone = { at: Date.now(), size: r.size, onDisk: r.plaintext instanceof File }; window.benchPlain = r.plaintext; },
      (e) => { window.benchDone = { error: `${e.code ?? ''} ${e.message ?? e}` }; },
    );
  });
  const consent = await consentP;
  const sampling = sampleMemory(self);
  // consent.confirm, timed from the click as the window receives it: the driver delivers it
  // 60 ms after it is asked to in Firefox, 17-29 ms in Chromium (measured 2026-12-05), which
  // is WebDriver's, not the person's nor the extension's. The window notes the time in the
  // capture phase, before its own handler; where it could not be read (the window already
  // closed), the time before the driver's click, which counts that delay.
  await consent.click(`input[name=certificate][value="${fingerprint}"]`);
  await consent.type('#pin', lib.PIN);
  await consent.waitArmed();
  await consent.raw.evaluate(() => {
    document.querySelector('#confirm').addEventListener('click', () => { window.benchClickAt = Date.now(); }, { capture: true, once: true });
  });
  const asked = Date.now();
  await consent.clickClosing('#confirm');
  const clicked = await consent.raw.evaluate(() => window.benchClickAt).catch(() => undefined);
  const confirmed = typeof clicked === 'number' && clicked >= asked ? clicked : asked;
  await page.waitForFunction(() => window.benchDone !== null, 30 * 60_000);
  const grown = sampling();
  const done = await page.evaluate(() => window.benchDone);
  if (done.error) throw new Error(`decryption failed: ${done.error}`);
  const sha = await page.evaluate(async () => {
    const digest = await crypto.subtle.digest('SHA-256', await window.benchPlain.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
  if (sha !== want) throw new Error('wrong plaintext');
  // The window closes itself once the pli opened; Firefox's WebDriver BiDi may fail to open
  // the next page while it does: wait for a known state (the deadline only guards a hang).
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    if (await consent.raw.isClosed?.()) break;
    if (await consent.raw.evaluate(() => false).catch(() => true)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.evaluate(() => { window.benchPlain = null; });
  return { secs: (done.at - confirmed) / 1000, grown, onDisk: done.onDisk };
}

/**
 * The « Ouvrir un pli » page, opened once and used for every run: in Firefox each new tab
 * opened by the extension was a new chance for WebDriver BiDi not to see it ("no such frame":
 * the run of 2026-12-04 12:19Z stopped so, as the one of 2026-12-03 did on 1 GiB).
 */
async function pliTabOnce() {
  if (pliTab) return pliTab;
  const url = kind === 'chromium'
    ? `chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`
    : `moz-extension://${GECKO_UUID}/pli/pli.html`;
  if (kind === 'chromium') {
    pliTab = await browser.newPage(url);
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
    pliTab = await browser.pageAt(url, 60_000); // a hang guard: returns when the page shows
    await server.close();
  }
  return pliTab;
}

/**
 * For reference beside the page API's row: the pli read by a bare page of another site (a
 * content process of its own, started for it), in a worker, as the extension frame reads it
 * (a byte stream into one reused 512 KiB buffer, common/pieces.js), nothing else done with
 * the bytes. One page for every run, as the portal's. Firefox's content process grew by about
 * 41 MiB the first time it read a 1 GiB file this way (and by nothing the second time): that
 * is the browser's, not the extension's.
 */
async function readAlone() {
  if (!bare) {
    const worker = `onmessage = async ({ data: file }) => {
      const reader = file.stream().getReader({ mode: 'byob' });
      let buffer = new ArrayBuffer(512 << 10);
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done) break;
        n += value.byteLength;
        buffer = value.buffer;
      }
      postMessage(n);
    };`;
    const server = await lib.startServer(world.dir, {
      '/bare.html': (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bare</title><input type=file id=pli>'),
      '/read-worker.js': (_q, res) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(worker),
    });
    const page = await browser.newPage(`${server.origin.replace('127.0.0.1', 'localhost')}/bare.html`);
    bare = { page, server };
  }
  const { page } = bare;
  await page.chooseFile('#pli', pli);
  const sampling = sampleMemory(self);
  const { n, ms } = await page.raw.evaluate(() => new Promise((resolve, reject) => {
    const w = new Worker('/read-worker.js');
    const t0 = performance.now();
    w.onmessage = ({ data }) => { resolve({ n: data, ms: performance.now() - t0 }); w.terminate(); };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(/** @type {HTMLInputElement} */ (document.getElementById('pli')).files[0]);
  }));
  const grown = sampling();
  if (n !== fs.statSync(pli).size) throw new Error(`read ${n} bytes of ${fs.statSync(pli).size}`);
  return { secs: ms / 1000, grown };
}

/** « Ouvrir un pli »: the extension page, the plaintext streamed to a temporary OPFS file. */
async function pliPage() {
  const page = await pliTabOnce();
  await page.bringToFront(); // a request from a hidden tab waits until it shows
  await page.waitFor('#file');
  await page.chooseFile('#file', pli);
  const consentP = browser.expectConsent();
  await page.click('#open');
  const consent = await consentP.catch(async (e) => {
    throw new Error(`${e.message}; the page says: ${await page.text('#status').catch(() => '?')}`);
  });
  // Each process's growth, as the page API's rows (not the whole tree's: a content process
  // Firefox starts meanwhile, 86 MiB from nothing, made one run's tree +296 MiB at 1 GiB).
  const sampling = sampleMemory(self);
  /** @type {Record<string, number>} */
  let grown;
  try {
    await consent.confirm(fingerprint, lib.PIN);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, 30 * 60_000);
  } finally {
    grown = sampling(); // whatever happened: a sampler left running keeps this process alive
  }
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`decryption failed: ${error}: ${await page.text("#status").catch(() => "?")}`);
  const r = JSON.parse(await page.evaluate(() => document.body.dataset.result));
  if (r.sha256 !== want) throw new Error('wrong plaintext');
  // `decryptSeconds`: from the key to the checked plaintext on disk; `seconds` adds reading
  // the header, the consent window, the PIN and the card (about 3 s here, driven by script).
  return { decryptSeconds: r.decryptSeconds, seconds: r.seconds, grown };
}
