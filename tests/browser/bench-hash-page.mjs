// Document hashing in the page, side by side in one browser run (issue 18): the same file
// on disk, chosen in an <input type=file>, hashed
//  - by hash-wasm 4 running in the page (the best of the well-known WASM hashers, as a site
//    would use it; the faster of File.stream() and 4 MiB slices read one ahead), and
//  - by Paraphe's signDocument (the extension frame: frame/frame.js), timed from the call
//    to the consent window's creation (its performance.timeOrigin), minus the same for a
//    1-byte document (what is not hashing: the request, the certificate list, the window).
// Also samples the resident memory of the browser's processes while Paraphe hashes, by kind
// (the page's renderer, the extension's process, the rest), and prints the peak growth over
// that of the 1-byte document's request.
// Prints Markdown table rows: | browser | algorithm | MiB | hash-wasm | Paraphe | ratio | memory |
//   node tests/browser/bench-hash-page.mjs chromium|firefox [MIB] [ROUNDS]     (256, 3)
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as driver from './driver.js';
import * as lib from './lib.js';
import { growthOver } from './memory.js';

const [kind = 'chromium', mibArg = '256', roundsArg = '3'] = process.argv.slice(2);
const MIB = Number(mibArg);
const ROUNDS = Number(roundsArg);
const ALGORITHMS = (process.env.PARAPHE_BENCH_ALGORITHMS ?? 'sha256 sha384 sha512').split(/\s+/).filter(Boolean);
const HASH_WASM = fileURLToPath(new URL('./node_modules/hash-wasm/dist/index.umd.min.js', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const world = lib.makeWorld(`bench-hash-${kind}`);
  const server = await lib.startServer(world.dir);
  const browser = await driver.launch(kind, world);
  try {
    const file = path.join(world.dir, 'document.bin');
    const fd = fs.openSync(file, 'w');
    const block = Buffer.alloc(16 << 20);
    const want = Object.fromEntries(ALGORITHMS.map((a) => [a, createHash(a)]));
    for (let i = 0; i < MIB / 16; i++) {
      randomFillSync(block);
      fs.writeSync(fd, block);
      for (const h of Object.values(want)) h.update(block);
    }
    fs.closeSync(fd);
    const page = await browser.newPage(`${server.origin}/sign.html`);
    await page.waitForFunction(() => window.parapheLoaded === true);
    await page.raw.addScriptTag({ path: HASH_WASM });
    await page.addFileInput('bench-file', file);

    /** Milliseconds from signDocument to the consent window's creation. */
    const toConsent = async (algorithm, tiny) => {
      const consentP = browser.expectConsent();
      const pending = page.evaluate(([alg, small]) => {
        const f = small ? new Blob([new Uint8Array(1)]) : document.getElementById('bench-file').files[0];
        window.benchStart = performance.timeOrigin + performance.now();
        window.benchPending = window.paraphe.signDocument(f, { hashAlgorithm: alg }).catch((e) => `${e.code}: ${e.message}`);
        return window.benchStart;
      }, [algorithm, tiny]);
      const start = await pending;
      // A request that ended without a window says how.
      const consent = await consentP.catch(async (e) => {
        const ended = await Promise.race([page.raw.evaluate(() => window.benchPending), new Promise((r) => { setTimeout(r, 1000, 'still pending'); })]);
        throw new Error(`${e.message}\nthe request: ${ended}`);
      });
      const opened = await consent.evaluate(() => performance.timeOrigin);
      const text = tiny ? '' : await consent.raw.evaluate(() => document.body.innerText);
      await consent.cancel();
      await page.raw.evaluate(() => window.benchPending);
      return { ms: opened - start, text };
    };

    await toConsent('sha256', true); // warm-up: the background, the host, the token's certificates
    for (const algorithm of ALGORITHMS) {
      const hex = want[algorithm].digest('hex');
      const hashWasm = [];
      const paraphe = [];
      let memory = null;
      for (let r = 0; r < ROUNDS; r++) {
        // hash-wasm's best of two ways to read the file: Blob.stream() and 4 MiB slices
        // read one ahead.
        hashWasm.push(await page.evaluate(async (alg) => {
          const f = document.getElementById('bench-file').files[0];
          const make = { sha256: 'createSHA256', sha384: 'createSHA384', sha512: 'createSHA512' }[alg];
          const times = [];
          const digests = new Set();
          for (const way of ['stream', 'slices']) {
            const t0 = performance.now();
            const h = await window.hashwasm[make]();
            h.init();
            if (way === 'stream') {
              const reader = f.stream().getReader();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                h.update(value);
              }
            } else {
              const CHUNK = 4 << 20;
              let next = f.slice(0, CHUNK).arrayBuffer();
              for (let at = 0; at < f.size;) {
                const b = await next;
                at += b.byteLength;
                next = at < f.size ? f.slice(at, at + CHUNK).arrayBuffer() : null;
                h.update(new Uint8Array(b));
              }
            }
            digests.add(h.digest('hex'));
            times.push(performance.now() - t0);
          }
          return { ms: Math.min(...times), digest: digests.size === 1 ? [...digests][0] : 'disagree' };
        }, algorithm).then((x) => {
          if (x.digest !== hex) throw new Error(`hash-wasm ${algorithm}: wrong digest`);
          return x.ms;
        }));
        let tiny;
        let big;
        // What hashing the file added: the growth with it, over the growth with one byte
        // (the consent window, the request).
        const grown = await growthOver(async () => { tiny = await toConsent(algorithm, true); },
          async () => { big = await toConsent(algorithm, false); });
        memory = memory ? Object.fromEntries(Object.keys(grown).map((k) => [k, Math.max(memory[k], grown[k])])) : grown;
        if (!big.text.toLowerCase().includes(hex.slice(0, 16))) throw new Error(`Paraphe ${algorithm}: the consent window does not show the expected digest`);
        paraphe.push(big.ms - tiny.ms);
        if (process.env.PARAPHE_BENCH_DEBUG) console.error(`${algorithm}: hash-wasm ${hashWasm.at(-1).toFixed(0)} ms, signDocument ${big.ms.toFixed(0)} − ${tiny.ms.toFixed(0)} ms`);
      }
      const hw = median(hashWasm);
      const pa = median(paraphe);
      const rate = (ms) => `${(MIB / (ms / 1000)).toFixed(0)} MiB/s`;
      const mem = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(0)} MiB`;
      // Firefox's command lines do not tell the extension's content process from a tab's (and
      // its extension frame runs in the page's process here): the largest one, and all.
      const where = kind === 'chromium'
        ? `page renderer ${mem(memory.page)}, extension process ${mem(memory.extension)}, browser and others ${mem(memory.other)}`
        : `the largest content process ${mem(memory.onePage)} (all content processes ${mem(memory.page)}), parent and others ${mem(memory.other)}`;
      // A process the browser started meanwhile (its spare one), not the hashing's: memory.js.
      const started = memory.started > 0 ? `; a process the browser started meanwhile, not counted: ${memory.started.toFixed(0)} MiB` : '';
      console.log(`| ${kind} | ${algorithm} | ${MIB} MiB | ${rate(hw)} | ${rate(pa)} | ${(hw / pa).toFixed(2)}× | ${where}${started} |`);
    }
  } finally {
    await browser.close();
    await server.close();
    world.cleanup();
  }
}

await main();
