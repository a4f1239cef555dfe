// Shared fixture of the browser end-to-end tests: a SoftHSM token, the host's config and
// manifest, a local test web server, and signature checks with openssl.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

// Hang guard of every test file (each imports this module): once the file's tests are over, its
// process must end. A browser, server or child left running would keep it alive, and node --test
// waits for it for ever (a CI run that never ended after a failed test). After 60 s, say what is
// still open, kill the children's process groups (browsers run in groups of their own) and end.
after(() => {
  setTimeout(() => {
    let children = '';
    try {
      children = execFileSync('ps', ['-o', 'pid=,pgid=,etime=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    } catch { /* none */ }
    console.error(`this test file's process still runs 60 s after its tests; open: ${JSON.stringify(process.getActiveResourcesInfo())}; children:\n${children}`);
    const ownGroup = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }));
    for (const line of children.split('\n').filter(Boolean)) {
      const [pid, pgid] = line.trim().split(/\s+/).map(Number);
      try { process.kill(pgid === ownGroup ? pid : -pgid, 'SIGKILL'); } catch { /* gone */ }
    }
    process.exit(1);
  }, 60_000).unref();
});

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HOST_BIN = process.env.PARAPHE_HOST_BIN ?? path.join(ROOT, 'target/debug/paraphe-host');
// PARAPHE_EXTENSION_DIST: another build directory (with chromium/ and firefox/), so that a
// run does not share extension/dist with a build or a run going on beside it.
const DIST = process.env.PARAPHE_EXTENSION_DIST ?? path.join(ROOT, 'extension/dist');
export const EXT = {
  chromium: path.join(DIST, 'chromium'),
  firefox: path.join(DIST, 'firefox'),
};
export const CHROMIUM_ID = 'debnnagefdjgplndcngcmjleglejidaj';
export const GECKO_ID = 'paraphe@paraphe.fr';
export const PIN = '1234';
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';
// tests/kit/pkcs11-gate, built by `cargo build` (a workspace member).
export const GATE_MODULE = process.env.PARAPHE_PKCS11_GATE ?? path.join(ROOT, 'target/debug/libparaphe_pkcs11_gate.so');

/** Debian's Chromium. */
export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));

/** Whether Chromium can be started in a mount namespace of its own (root and `unshare -m`). */
export function canUnshare() {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium a test starts: in a mount namespace of its own where /etc/chromium is a private
 * copy under `dir` (Debian's master_preferences, and `policy`, if given, as the administrator's
 * managed policy for the extension), so that nothing deployed on this machine changes what a
 * test sees: a Paraphe installed here, or another suite's installers/test.sh, which deploys a
 * real policy (`pinSessionMinutes`…) and a system host manifest for a few minutes. Nothing is
 * written to the machine's /etc. Chromium reads policy from /etc/chromium/policies/managed
 * only; the policy file is dated an hour back, as one deployed before the browser starts
 * (Chromium waits for a policy file written seconds ago to settle). `browserPolicy`: the
 * browser's own policies (e.g. `{BlockThirdPartyCookies: false}`). Without root or
 * `unshare -m`: the plain binary, and a policy is refused (the caller skips).
 * @param {string} dir
 * @param {object | null} [policy]
 * @param {object | null} [browserPolicy]
 */
export function chromiumExecutable(dir, policy = null, browserPolicy = null) {
  if (!canUnshare()) {
    if (policy || browserPolicy) throw new Error('a Chromium policy needs root and unshare -m (a private /etc/chromium)');
    return CHROMIUM;
  }
  const etc = fs.mkdtempSync(path.join(dir, 'etc-chromium-'));
  if (fs.existsSync('/etc/chromium/master_preferences')) fs.copyFileSync('/etc/chromium/master_preferences', path.join(etc, 'master_preferences'));
  for (const [name, content] of [['paraphe.json', policy && { '3rdparty': { extensions: { [CHROMIUM_ID]: policy } } }], ['browser.json', browserPolicy]]) {
    if (!content) continue;
    fs.mkdirSync(path.join(etc, 'policies/managed'), { recursive: true });
    const file = path.join(etc, 'policies/managed', name);
    fs.writeFileSync(file, JSON.stringify(content));
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, old, old);
  }
  const wrapper = `${etc}.sh`;
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec unshare -m sh -c 'etc=$1; bin=$2; shift 2; mount --bind "$etc" /etc/chromium && exec "$bin" "$@"' sh '${etc}' '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** Debian's Firefox ESR (`PARAPHE_FIREFOX` for another). */
export const FIREFOX = process.env.PARAPHE_FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * The Firefox a test starts: as with `chromiumExecutable`, in a mount namespace of its own,
 * where /usr/lib/mozilla (the system's native-messaging hosts, managed storage and PKCS#11
 * module manifests) and /etc/firefox (policies.json) are an empty directory under `dir`, so
 * Firefox sees only what the test writes under its own HOME: not a Paraphe installed here, nor
 * the policy (`pinSessionMinutes`…) and manifests another suite's installers/test.sh deploys
 * for a few minutes. A bind mount needs its target, and nothing is written to the machine's
 * /etc: a /etc/firefox made after the namespace was (a second or so before Firefox reads its
 * policies) is not hidden. Without root or `unshare -m`: the plain binary.
 * `installed.test.js` does not use it: it must read the system's files.
 * @param {string} dir
 */
export function firefoxExecutable(dir) {
  if (!canUnshare()) return FIREFOX;
  fs.mkdirSync(dir, { recursive: true });
  const empty = fs.mkdtempSync(path.join(dir, 'firefox-system-'));
  const wrapper = `${empty}.sh`;
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec unshare -m sh -c 'e=$1; bin=$2; shift 2; for d in /etc/firefox /usr/lib/mozilla; do if [ -d "$d" ]; then mount --bind "$e" "$d" || exit 1; fi; done; exec "$bin" "$@"' sh '${empty}' '${FIREFOX}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}

export function checkPrerequisites() {
  for (const [what, p] of [['host binary (cargo build -p paraphe-host)', HOST_BIN],
    ['Chromium build (scripts/build-extension.sh)', path.join(EXT.chromium, 'manifest.json')],
    ['Firefox build (scripts/build-extension.sh)', path.join(EXT.firefox, 'manifest.json')]]) {
    if (!fs.existsSync(p)) throw new Error(`missing ${what}: ${p}`);
  }
}

/**
 * A throw-away directory with a fresh token; removed by `cleanup()`. With `{gated: true}`
 * the host reaches SoftHSM through tests/kit/pkcs11-gate, and `world.gate` (see `gate`)
 * holds its operations where the test says.
 */
export function makeWorld(prefix, { gated = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `paraphe-${prefix}-`));
  const kit = path.join(dir, 'kit');
  execFileSync(path.join(ROOT, 'tests/kit/make-token.sh'), [kit], { stdio: ['ignore', 'ignore', 'inherit'] });
  const config = path.join(dir, 'paraphe-config.json');
  const g = gated ? gate(path.join(dir, 'gate'), SOFTHSM) : null;
  fs.writeFileSync(config, JSON.stringify({ builtinModules: false, modules: [g ? GATE_MODULE : SOFTHSM] }));
  const logFile = path.join(dir, 'host.log');
  const env = {
    ...process.env,
    ...(g ? g.env : {}),
    SOFTHSM2_CONF: path.join(kit, 'softhsm2.conf'),
    PARAPHE_CONFIG: config,
    PARAPHE_LOG: 'info',
    PARAPHE_LOG_FILE: logFile,
  };
  const fingerprint = (id) => {
    const der = execFileSync('openssl', ['x509', '-in', path.join(kit, 'pki', `${id}.crt`), '-outform', 'DER']);
    return createHash('sha256').update(der).digest('hex');
  };
  return {
    dir,
    kit,
    env,
    logFile,
    fingerprint,
    gate: g,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The test's side of tests/kit/pkcs11-gate (its src/gate.rs says how the control directory
 * works), for a host whose module is GATE_MODULE with `env` in its environment, forwarding to
 * `realModule`. Functions: C_Sign, C_SignFinal, C_Decrypt, C_Login. A fault is then injected
 * at a known point: `const t = gate.holdAfter('C_Sign', 20)` lets 20 more signatures through,
 * `await gate.held('C_Sign', t)` returns once the 21st waits at the gate (the token never saw
 * it), then the test kills the host, pulls the card…, and `gate.release` / `releaseAll`.
 */
export function gate(dir, realModule) {
  if (!fs.existsSync(GATE_MODULE)) throw new Error(`missing the gated test token (cargo build): ${GATE_MODULE}`);
  fs.mkdirSync(dir, { recursive: true });
  const read = (name) => {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8').trim();
    } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  };
  const write = (name, text) => {
    const tmp = path.join(dir, `${name}.tmp-test`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(dir, name));
  };
  const arrived = (fn) => Number(read(`${fn}.arrived`) ?? 0);
  const open = (fn) => { const v = read(`${fn}.open`); return v === null || v === 'all' ? Infinity : Number(v); };
  return {
    dir,
    env: { PARAPHE_GATE_MODULE: realModule, PARAPHE_GATE_DIR: dir },
    /** Calls of `fn` that reached the gate so far (tickets are numbered from 1, across hosts). */
    arrived,
    /** Calls of `fn` that came back from the real module. */
    done: (fn) => Number(read(`${fn}.done`) ?? 0),
    /** Lets `n` more calls of `fn` through and holds the next; returns that next call's ticket. */
    holdAfter(fn, n) {
      const upTo = arrived(fn) + n;
      write(`${fn}.open`, String(upTo));
      return upTo + 1;
    },
    /** Resolves once call `ticket` of `fn` waits at the gate (it has not reached the token). */
    async held(fn, ticket, timeout = 60_000) {
      const deadline = Date.now() + timeout; // a hang guard: the wait ends on the event itself
      while (arrived(fn) < ticket) {
        if (Date.now() > deadline) throw new Error(`${fn} call ${ticket} never reached the gate (arrived: ${arrived(fn)})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    /** Lets `n` more held calls of `fn` go on. */
    release(fn, n = 1) {
      const current = open(fn);
      if (current !== Infinity) write(`${fn}.open`, String(current + n));
    },
    /** Lets every call of `fn` go on, now and later. */
    releaseAll(fn) { write(`${fn}.open`, 'all'); },
  };
}

/** The host manifest for `browser`, from manifests/*.json.in, written to `file`. */
export function writeHostManifest(browser, file) {
  const template = fs.readFileSync(path.join(ROOT, `manifests/fr.paraphe.host.${browser}.json.in`), 'utf8');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, template.replace('@HOST_PATH@', HOST_BIN));
}

/** A self-signed TLS certificate for 127.0.0.1 (browsers launched with acceptInsecureCerts). */
export function tlsFor(dir) {
  const key = path.join(dir, 'tls.key');
  const cert = path.join(dir, 'tls.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/**
 * Serves tests/browser/pages and the client library at /paraphe.js on 127.0.0.1, over http,
 * or over https when `tlsDir` is given; `?csp-sandbox` adds `Content-Security-Policy: sandbox
 * allow-scripts`. `routes`: {pathname: (req, res, url) => …} answered by the test itself.
 * Resolves to {port, origin, close}.
 */
export async function startServer(tlsDir, routes = {}) {
  const pages = path.join(ROOT, 'tests/browser/pages');
  const files = {
    '/paraphe.js': path.join(ROOT, 'extension/src/page/paraphe.js'),
  };
  const handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (routes[url.pathname]) {
      routes[url.pathname](req, res, url);
      return;
    }
    const file = files[url.pathname] ?? path.join(pages, path.basename(url.pathname));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
    // ?csp-sandbox: served as a portal serves uploaded files, in a sandbox (opaque origin).
    const sandbox = url.searchParams.has('csp-sandbox') ? { 'content-security-policy': 'sandbox allow-scripts' } : {};
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...sandbox });
    // Pages take the digest to sign from ?hash= (hex only), so they need no script.
    const hash = (url.searchParams.get('hash') ?? '').replace(/[^0-9a-f]/gi, '');
    res.end(fs.readFileSync(file, 'utf8').replaceAll('{{hash}}', hash));
  };
  const server = tlsDir ? https.createServer(tlsFor(tlsDir), handler) : http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    origin: `${tlsDir ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** Random data and its SHA-256, to be signed. */
export function document(dir, name = 'document.bin', size = 4096) {
  const file = path.join(dir, name);
  const data = randomBytes(size);
  fs.writeFileSync(file, data);
  return { file, data, hex: createHash('sha256').update(data).digest('hex') };
}

/** True when `signatureB64` (RSA PKCS#1 v1.5, or DER ECDSA) is a valid SHA-256 signature of `file` by key `id`. */
export function opensslVerifies(world, id, file, signatureB64) {
  const sig = path.join(world.dir, `sig-${Date.now()}.bin`);
  fs.writeFileSync(sig, Buffer.from(signatureB64, 'base64'));
  const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', path.join(world.kit, 'pki', `${id}.pub.pem`),
    '-signature', sig, file], { encoding: 'utf8' });
  return out.trim() === 'Verified OK';
}

export function hostLog(world) {
  try {
    return fs.readFileSync(world.logFile, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Chromium (a playwright BrowserContext with the extension): stores `values` as the options
 * page does (extension/src/common/store.js, IndexedDB of the extension's origin).
 */
export async function storeChromium(context, values) {
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${CHROMIUM_ID}/options/options.html`);
    await page.evaluate(async (v) => (await import(new URL('/common/store.js', location.href).href)).set(v), values);
  } finally {
    await page.close();
  }
}

/**
 * A two-page PDF with a classic cross-reference table; `n` makes each one different, `label`
 * names it (its text and title).
 */
export function simplePdf(n, label = 'Deliberation') {
  const content = `BT /F1 24 Tf 72 700 Td (${label} n ${String(n).padStart(3, '0')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Title (${label} ${n}) /Producer (paraphe tests) >>`,
  ];
  let out = '%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 7 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
