// Streaming SHA-256 of the extension's WASM core (the `Hasher` that signDocument feeds in
// 512 KiB chunks) against hash-wasm (a well-known, hand-optimized WASM hasher), on the same
// data, in V8 (Node, the engine of Chromium's service worker). Node's own OpenSSL
// (native code) is printed as the ceiling. Prints one Markdown table.
//   node tests/browser/bench-hash.mjs [MEBIBYTES] [ROUNDS]      (defaults: 256, 5)
// The core comes from extension/pkg (scripts/build-extension.sh).
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSHA256 } from 'hash-wasm';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = process.env.PARAPHE_PKG_DIR ?? path.join(ROOT, 'extension/pkg');
const { initSync, Hasher } = await import(path.join(PKG, 'paraphe_wasm.js'));
initSync({ module: fs.readFileSync(path.join(PKG, 'paraphe_wasm_bg.wasm')) });

const mib = Number(process.argv[2] ?? 256);
const rounds = Number(process.argv[3] ?? 5);
const CHUNK = 512 * 1024;
// One random 16 MiB buffer, fed again and again: the hashers read memory, not the disk.
const pool = randomFillSync(Buffer.alloc(16 * 1024 * 1024));
const chunks = Array.from({ length: (mib * 1024 * 1024) / CHUNK }, (_, i) => pool.subarray((i * CHUNK) % pool.length, ((i * CHUNK) % pool.length) + CHUNK));

const hashers = {
  'Paraphe WASM core (`Hasher`, sha2 crate)': () => {
    const h = new Hasher('sha256');
    for (const c of chunks) h.update(c);
    const hex = h.finish();
    h.free();
    return hex;
  },
  'hash-wasm 4 (`createSHA256`)': async () => {
    const h = await createSHA256();
    h.init();
    for (const c of chunks) h.update(c);
    return h.digest('hex');
  },
  'Node `crypto` (OpenSSL, native; not available to an extension)': () => {
    const h = createHash('sha256');
    for (const c of chunks) h.update(c);
    return h.digest('hex');
  },
};

const results = [];
let reference = null;
for (const [name, run] of Object.entries(hashers)) {
  await run(); // warm-up (WASM compilation, tiers)
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const hex = await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    reference ??= hex;
    if (hex !== reference) throw new Error(`${name} disagrees: ${hex} != ${reference}`);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  results.push([name, median, (mib / (median / 1000)).toFixed(0)]);
}

console.log(`## Streaming SHA-256, ${mib} MiB in 512 KiB chunks, median of ${rounds} (Node ${process.version}, V8 ${process.versions.v8})\n`);
console.log('| hasher | time | throughput |');
console.log('|---|---:|---:|');
for (const [name, ms, rate] of results) console.log(`| ${name} | ${ms.toFixed(0)} ms | ${rate} MiB/s |`);
