// In-browser part of scripts/bench-batch.sh: a batch of N signatures through the whole
// product (page → content script → background + WASM → host → SoftHSM), raw and CAdES,
// timed from the click on « Signer » in the consent window to the page's result, and from
// the page's first to last progress message (the signing loop alone, without the login).
// Prints Markdown table rows. With PARAPHE_BENCH_DIRECT_MS (N direct C_Sign on the same key,
// same run: host_overhead's median), each row ends with the goal of issue 18: the batch
// within 1.3 × that + 1 s. (Document hashing: bench-hash-page.mjs.)
//   node tests/browser/bench-batch.mjs chromium|firefox [N] [ROUNDS]
import { randomBytes } from 'node:crypto';
import * as driver from './driver.js';
import * as lib from './lib.js';

const [kind = 'chromium', n = '100', rounds = '5'] = process.argv.slice(2);
const N = Number(n);
const world = lib.makeWorld(`bench-batch-${kind}`);
const server = await lib.startServer(world.dir);
const browser = await driver.launch(kind, world);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
      await consent.waitArmed(); // « Confirmer » ignores clicks until armed (consent/consent.js)
      const t0 = performance.now();
      await consent.clickClosing('#confirm');
      const { count, loopMs } = await pending;
      total.push(performance.now() - t0);
      loop.push(loopMs * N / (N - 1)); // first to last progress covers N − 1 signatures
      if (count !== N) throw new Error(`${count} signatures`);
    }
    const t = median(total);
    const l = median(loop);
    const direct = Number(process.env.PARAPHE_BENCH_DIRECT_MS ?? NaN);
    const goal = Number.isFinite(direct)
      ? ` | ${(t / direct).toFixed(2)}× direct; ${t <= 1.3 * direct + 1000 ? 'within' : 'NOT within'} 1.3 × ${direct.toFixed(0)} ms + 1 s`
      : '';
    console.log(`| ${kind} | ${format} | ${N} | ${t.toFixed(0)} ms | ${(t / N).toFixed(2)} ms | ${l.toFixed(0)} ms | ${(l / N).toFixed(2)} ms${goal} |`);
  }
} finally {
  await browser.close();
  await server.close();
  world.cleanup();
}
