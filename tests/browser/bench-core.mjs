// Builds of the WASM core side by side in V8 (Node, the engine of Chromium), on the work the
// core does per byte in the browser: streaming SHA-256/384/512 (`Hasher`, what the extension
// frame feeds for signDocument) and opening plis (`PliDecryptor`: for AES-256-GCM the GHASH
// and tag check while WebCrypto runs the AES, so only the core's share is timed here; for
// 3DES the whole decryption). Timed in CPU time of the process (user + system), which the
// machine's load moves far less than wall-clock time, and rounds interleave the builds
// (A B A B …); prints the median of each and its ratio to the first.
// Used to decide what scripts/build-extension.sh does to the module (wasm-opt, rustc flags).
// With --browser, the same work in a page of headless Chromium or Firefox ESR (their engines,
// newer than Node's), timed there by wall clock (performance.now(); no CPU time in a page), so
// more rounds are needed on a busy machine. The browser starts as the tests start it (driver.js),
// with the extension of extension/dist or $PARAPHE_EXTENSION_DIST, which the page does not use.
//   node tests/browser/bench-core.mjs [--mib N] [--rounds N] [--browser chromium|firefox] NAME=PKG_DIR …
// Each PKG_DIR holds paraphe_wasm.js and paraphe_wasm_bg.wasm (scripts/build-extension.sh
// writes them into extension/pkg, or $PARAPHE_EXTENSION_DIST/pkg). Needs openssl.
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
let mib = 64;
let rounds = 5;
let browserKind = null;
const builds = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mib') mib = Number(args[++i]);
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--browser') browserKind = args[++i];
  else {
    const [name, dir] = args[i].split('=');
    if (!dir) throw new Error(`NAME=PKG_DIR expected, got ${args[i]}`);
    builds.push({ name, dir: path.resolve(dir) });
  }
}
if (builds.length === 0) throw new Error('usage: bench-core.mjs [--mib N] [--rounds N] NAME=PKG_DIR …');

// Each build's bindings are a module of their own (their own WASM instance): import a copy of
// the glue under a distinct URL.
for (const b of builds) {
  const url = new URL(`file://${path.join(b.dir, 'paraphe_wasm.js')}?build=${encodeURIComponent(b.name)}`);
  b.core = await import(url.href);
  b.core.initSync({ module: fs.readFileSync(path.join(b.dir, 'paraphe_wasm_bg.wasm')) });
  b.bytes = fs.statSync(path.join(b.dir, 'paraphe_wasm_bg.wasm')).size;
}

const CHUNK = 1 << 20; // the frame's read size (common/pieces.js, pli/stream.js)
const pool = randomFillSync(Buffer.alloc(16 << 20));
const pieces = (buf) => Array.from({ length: Math.ceil(buf.length / CHUNK) }, (_, i) => buf.subarray(i * CHUNK, (i + 1) * CHUNK));
const hashChunks = Array.from({ length: (mib << 20) / CHUNK }, (_, i) => pool.subarray((i * CHUNK) % pool.length, ((i * CHUNK) % pool.length) + CHUNK));

// A pli of `size` bytes of `pool` for a throw-away RSA recipient, as bench-decrypt.sh makes them.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'paraphe-bench-core-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const ossl = (...a) => execFileSync('openssl', a, { stdio: ['pipe', 'pipe', 'pipe'] });
ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=bench', '-days', '2', '-keyout', `${work}/key.pem`, '-out', `${work}/cert.pem`);
const certDer = ossl('x509', '-in', `${work}/cert.pem`, '-outform', 'DER');
const makePli = (cipher, size) => {
  const plain = Buffer.alloc(size);
  for (let at = 0; at < size; at += pool.length) pool.copy(plain, at, 0, Math.min(pool.length, size - at));
  fs.writeFileSync(`${work}/plain`, plain);
  ossl('cms', '-encrypt', '-binary', '-stream', `-${cipher}`, '-outform', 'DER', '-in', `${work}/plain`, '-out', `${work}/pli`, '-recip', `${work}/cert.pem`);
  const pli = fs.readFileSync(`${work}/pli`);
  // The content-encryption key, unwrapped once with the first build's request.
  const d = new builds[0].core.PliDecryptor();
  d.feed(pli.subarray(0, 64 << 10));
  if (d.header() === undefined) throw new Error('no header in the first 64 KiB');
  d.match_certificates(JSON.stringify([{ fingerprint: 'bench', certificate: certDer.toString('base64') }]));
  const request = JSON.parse(d.decrypt_request(1, 'session', 'bench'));
  d.free();
  const wrapped = request.arguments.data;
  fs.writeFileSync(`${work}/wrapped`, Buffer.from(wrapped, 'base64'));
  const key = ossl('pkeyutl', '-decrypt', '-inkey', `${work}/key.pem`, '-in', `${work}/wrapped`).toString('base64');
  return { pli: pieces(pli), bytes: pli, key, sha256: createHash('sha256').update(plain).digest('hex'), size };
};

/** Opens `p` with `core` as pli/stream.js does; returns the SHA-256 of what the core hands out. */
const open = (core, p) => {
  const d = new core.PliDecryptor();
  const h = createHash('sha256');
  let keyed = false;
  let external = null;
  try {
    for (const piece of p.pli) {
      const out = d.feed(piece);
      if (keyed) h.update(out);
      else if (d.header() !== undefined) {
        external = d.set_key_external_base64(p.key) ?? null;
        keyed = true;
        h.update(d.feed(new Uint8Array(0)));
      }
    }
    // GCM: the GHASH of each piece is WebCrypto's (pli/bulk.js), not given back here, so
    // finish refuses; what is timed is the core's share, parsing and handing out.
    if (external === null) h.update(d.finish());
  } finally {
    d.free();
  }
  // GCM: what came out is the ciphertext (WebCrypto's to decrypt and hash).
  return external === null ? h.digest('hex') : 'external';
};

const pliSize = Math.min(mib, 32) << 20;
const desSize = Math.min(mib, 8) << 20;
const gcm = makePli('aes-256-gcm', pliSize);
const des = makePli('des3', desSize);

const tasks = [
  ...['sha256', 'sha384', 'sha512'].map((alg) => ({
    name: `${alg}, ${mib} MiB`,
    mib,
    page: { kind: 'hash', alg },
    run: (core) => {
      const h = new core.Hasher(alg);
      for (const c of hashChunks) h.update(c);
      const hex = h.finish();
      h.free();
      return hex;
    },
  })),
  { name: `pli AES-256-GCM, core's share (parsing; GHASH and AES are WebCrypto's), ${pliSize >> 20} MiB`, mib: pliSize >> 20, page: { kind: 'pli', pli: 'gcm', key: gcm.key }, run: (core) => open(core, gcm) },
  { name: `pli 3DES, whole decryption, ${desSize >> 20} MiB`, mib: desSize >> 20, page: { kind: 'pli', pli: 'des', key: des.key }, run: (core) => open(core, des) },
];

// In Node: CPU time of the process around one run. In a page: performance.now() around it.
let measure = (t, i) => {
  const t0 = process.cpuUsage();
  const got = t.run(builds[i].core);
  const dt = process.cpuUsage(t0);
  return { ms: (dt.user + dt.system) / 1000, got };
};
let where = `Node ${process.version}, V8 ${process.versions.v8}; CPU time`;
let close = async () => {};
if (browserKind) {
  const driver = await import('./driver.js');
  const lib = await import('./lib.js');
  const world = lib.makeWorld(`bench-core-${browserKind}`);
  const send = (res, type, body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  const routes = { '/pli/gcm': (_q, res) => send(res, 'application/octet-stream', gcm.bytes), '/pli/des': (_q, res) => send(res, 'application/octet-stream', des.bytes) };
  builds.forEach((b, i) => {
    for (const f of ['paraphe_wasm.js', 'paraphe_wasm_bg.wasm']) {
      routes[`/core/${i}/${f}`] = (_q, res) => send(res, f.endsWith('.js') ? 'text/javascript' : 'application/wasm', fs.readFileSync(path.join(b.dir, f)));
    }
  });
  const server = await lib.startServer(world.dir, routes);
  const browser = await driver.launch(browserKind, world, { withHost: false });
  close = async () => {
    await browser.close();
    await server.close();
  };
  // A failure before the rounds (a module that does not load) closes the browser too: it
  // was left running.
  let page;
  let version;
  try {
    page = await browser.newPage(`${server.origin}/sign.html`);
    version = await page.raw.evaluate(() => navigator.userAgent);
    await page.raw.evaluate(async ({ n, mib }) => {
      const w = /** @type {any} */ (window);
      w.benchCores = [];
      for (let i = 0; i < n; i++) {
        const core = await import(`/core/${i}/paraphe_wasm.js`);
        await core.default();
        w.benchCores.push(core);
      }
      // Random pieces of 1 MiB (getRandomValues fills 64 KiB at a time), 16 MiB reused.
      const pool = new Uint8Array(16 << 20);
      for (let at = 0; at < pool.length; at += 65536) crypto.getRandomValues(pool.subarray(at, at + 65536));
      w.benchChunks = Array.from({ length: mib }, (_, i) => pool.subarray((i % 16) << 20, ((i % 16) + 1) << 20));
      const split = (b) => Array.from({ length: Math.ceil(b.length / (1 << 20)) }, (_, i) => b.subarray(i << 20, (i + 1) << 20));
      w.benchPlis = {};
      for (const name of ['gcm', 'des']) w.benchPlis[name] = split(new Uint8Array(await (await fetch(`/pli/${name}`)).arrayBuffer()));
    }, { n: builds.length, mib });
  } catch (e) {
    await close();
    throw e;
  }
  measure = async (t, i) =>
    page.raw.evaluate(({ i, task }) => {
      const w = /** @type {any} */ (window);
      const core = w.benchCores[i];
      const t0 = performance.now();
      let got;
      if (task.kind === 'hash') {
        const h = new core.Hasher(task.alg);
        for (const c of w.benchChunks) h.update(c);
        got = h.finish();
        h.free();
      } else {
        // As pli/stream.js; what comes out: its length and last bytes (3DES plaintext).
        const d = new core.PliDecryptor();
        let keyed = false;
        let external = false;
        let n = 0;
        let last = new Uint8Array(0);
        const take = (out) => {
          n += out.length;
          if (out.length) last = out.subarray(Math.max(0, out.length - 16));
        };
        for (const piece of w.benchPlis[task.pli]) {
          const out = d.feed(piece);
          if (keyed) take(out);
          else if (d.header() !== undefined) {
            external = d.set_key_external_base64(task.key) !== undefined;
            keyed = true;
            take(d.feed(new Uint8Array(0)));
          }
        }
        if (!external) take(d.finish()); // GCM: its GHASH is WebCrypto's, see open()
        d.free();
        got = `${n} ${Array.from(last).join(',')}`;
      }
      return { ms: performance.now() - t0, got };
    }, { i, task: t.page });
  where = `${browserKind}, ${version}; wall clock`;
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`## WASM core builds side by side (${where}, median of ${rounds}, rounds interleaved; load at start ${load()})\n`);
console.log(`| task | ${builds.map((b) => `${b.name} (${b.bytes} B)`).join(' | ')} |`);
console.log(`|---|${builds.map(() => '---:').join('|')}|`);
try {
  for (const t of tasks) {
    let want = null;
    for (let i = 0; i < builds.length; i++) for (let w = 0; w < 2; w++) await measure(t, i); // warm-up: compilation tiers
    const times = builds.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < builds.length; i++) {
        const { ms, got } = await measure(t, i);
        times[i].push(ms);
        want ??= got;
        if (got !== want) throw new Error(`${builds[i].name}, ${t.name}: ${got} != ${want}`);
      }
    }
    if (!browserKind && t.name.includes('3DES') && want !== des.sha256) throw new Error(`3DES: wrong plaintext ${want}`);
    const med = times.map((xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
    const rate = (ms) => t.mib / (ms / 1000);
    const cells = med.map((ms, i) => `${rate(ms).toFixed(rate(ms) < 20 ? 1 : 0)} MiB/s${i ? ` (${(med[0] / ms).toFixed(2)}×)` : ''}`);
    console.log(`| ${t.name} | ${cells.join(' | ')} |`);
  }
} finally {
  await close();
}
console.log(`\nLoad at the end: ${load()}. Ratios: throughput over the first build's, same rounds.`);
