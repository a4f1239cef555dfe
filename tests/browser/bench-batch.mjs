// In-browser part of scripts/bench-batch.sh: a batch of N signatures through the whole
// product (page → content script → background + WASM → host → SoftHSM), raw and CAdES,
// timed from the click on « Signer » in the consent window to the page's result, and from
// the page's first to last progress message (the signing loop alone, without the login).
// Then the same 64 MiB document hashed in the page three ways: signDocument (read in 512 KiB
// chunks, sent to the background, hashed by the WASM core; timed to the consent window,
// minus the time a 1-byte document takes), hash-wasm in the page, and WebCrypto (one shot).
// Prints Markdown table rows.
//   node tests/browser/bench-batch.mjs chromium|firefox [N] [ROUNDS]      PARAPHE_BENCH_HASH=0: no hashing part
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as driver from './driver.js';
import * as lib from './lib.js';

const [kind = 'chromium', n = '100', rounds = '5'] = process.argv.slice(2);
const N = Number(n);
const world = lib.makeWorld(`bench-batch-${kind}`);
const server = await lib.startServer(world.dir);
const browser = await driver.launch(kind, world);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const HASH_WASM = new URL('./node_modules/hash-wasm/dist/sha256.umd.min.js', import.meta.url);

/** Milliseconds from signDocument(blob of `mib` MiB) to the consent window, median of 3. */
async function toConsent(page, mib) {
  const times = [];
  for (let r = 0; r < 3; r++) {
    const consentP = browser.expectConsent();
    const t0 = performance.now();
    const pending = page.evaluate((m) => window.paraphe.signDocument(window.benchBlob(m)).catch(() => null), mib);
    const consent = await consentP;
    times.push(performance.now() - t0);
    await consent.clickClosing('#cancel');
    await pending;
  }
  return median(times);
}

async function hashInPage(page) {
  const MIB = 64;
  await page.raw.addScriptTag({ path: fileURLToPath(HASH_WASM) });
  await page.evaluate(() => {
    const cache = new Map();
    window.benchBlob = (mib) => {
      if (!cache.has(mib)) {
        const part = new Uint8Array(1 << 16);
        const parts = [];
        for (let i = 0; i < (mib * (1 << 20)) / part.length; i++) parts.push(crypto.getRandomValues(part).slice());
        cache.set(mib, mib === 0 ? new Blob([new Uint8Array(1)]) : new Blob(parts));
      }
      return cache.get(mib);
    };
  });
  const extension = (await toConsent(page, MIB)) - (await toConsent(page, 0));
  const inPage = await page.evaluate(async (m) => {
    const blob = window.benchBlob(m);
    const out = {};
    let t0 = performance.now();
    const h = await window.hashwasm.createSHA256();
    h.init();
    const reader = blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
    }
    h.digest('hex');
    out.hashWasm = performance.now() - t0;
    t0 = performance.now();
    await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    out.webCrypto = performance.now() - t0;
    return out;
  }, MIB);
  const rate = (ms) => `${(MIB / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`| ${kind} | signDocument: page → background (512 KiB messages) → WASM core | ${MIB} MiB | ${extension.toFixed(0)} ms | ${rate(extension)} |`);
  console.log(`| ${kind} | hash-wasm 4 in the page, Blob.stream() | ${MIB} MiB | ${inPage.hashWasm.toFixed(0)} ms | ${rate(inPage.hashWasm)} |`);
  console.log(`| ${kind} | WebCrypto digest, one shot (not streaming) | ${MIB} MiB | ${inPage.webCrypto.toFixed(0)} ms | ${rate(inPage.webCrypto)} |`);
}

try {
  const page = await browser.newPage(`${server.origin}/sign.html`);
  await page.waitForFunction(() => window.parapheLoaded === true);
  const fingerprint = world.fingerprint('01');
  for (const format of ['raw', 'cades']) {
    const total = [];
    const loop = [];
    for (let r = 0; r < Number(rounds); r++) {
      const hashes = Array.from({ length: N }, () => randomBytes(32).toString('hex'));
      const consentP = browser.expectConsent();
      const pending = page.evaluate(async ([hs, fp, fmt]) => {
        const stamps = [];
        const res = await window.paraphe.signHash({
          hashes: hs.map((digest) => ({ digest, hashAlgorithm: 'sha256' })),
          certificate: fp,
          format: fmt,
          onProgress: () => stamps.push(performance.now()),
        });
        return { count: res.signatures.length, loopMs: stamps.at(-1) - stamps[0] };
      }, [hashes, fingerprint, format]);
      const consent = await consentP;
      await consent.click(`input[name=certificate][value="${fingerprint}"]`);
      await consent.type('#pin', lib.PIN);
      const t0 = performance.now();
      await consent.clickClosing('#confirm');
      const { count, loopMs } = await pending;
      total.push(performance.now() - t0);
      loop.push(loopMs * N / (N - 1)); // first to last progress covers N − 1 signatures
      if (count !== N) throw new Error(`${count} signatures`);
    }
    const t = median(total);
    const l = median(loop);
    console.log(`| ${kind} | ${format} | ${N} | ${t.toFixed(0)} ms | ${(t / N).toFixed(2)} ms | ${l.toFixed(0)} ms | ${(l / N).toFixed(2)} ms |`);
  }
  if (process.env.PARAPHE_BENCH_HASH !== '0') await hashInPage(page);
} finally {
  await browser.close();
  await server.close();
  world.cleanup();
}
