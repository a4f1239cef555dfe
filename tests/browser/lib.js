// Shared fixture of the browser end-to-end tests: a SoftHSM token, the host's config and
// manifest, a local test web server, and signature checks with openssl.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function checkPrerequisites() {
  for (const [what, p] of [['host binary (cargo build -p paraphe-host)', HOST_BIN],
    ['Chromium build (scripts/build-extension.sh)', path.join(EXT.chromium, 'manifest.json')],
    ['Firefox build (scripts/build-extension.sh)', path.join(EXT.firefox, 'manifest.json')]]) {
    if (!fs.existsSync(p)) throw new Error(`missing ${what}: ${p}`);
  }
}

/** A throw-away directory with a fresh token; removed by `cleanup()`. */
export function makeWorld(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `paraphe-${prefix}-`));
  const kit = path.join(dir, 'kit');
  execFileSync(path.join(ROOT, 'tests/kit/make-token.sh'), [kit], { stdio: ['ignore', 'ignore', 'inherit'] });
  const config = path.join(dir, 'paraphe-config.json');
  fs.writeFileSync(config, JSON.stringify({ builtinModules: false, modules: [SOFTHSM] }));
  const logFile = path.join(dir, 'host.log');
  const env = {
    ...process.env,
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
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
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
 * or over https when `tlsDir` is given. `routes`: {pathname: (req, res, url) => …} answered
 * by the test itself. Resolves to {port, origin, close}.
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
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
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
