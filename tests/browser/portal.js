// The real demo portal (target/debug/paraphe-demo-portal) for the browser tests and the
// demo, an https front for it, and an independent check of login tokens with openssl.
//
// The portal speaks plain http on loopback. Browsers see it through a small TLS-terminating
// proxy (self-signed certificate, accepted by the test browsers), so pages are https as in
// production and the portal is told that https origin (`--origin`): nothing in the
// extension is relaxed for the tests. scripts/demo.sh instead opens the portal over http
// with the extension's developer option allowLoopbackHttp, as a portal developer would.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import * as lib from './lib.js';

export const PORTAL_BIN = process.env.PARAPHE_PORTAL_BIN ?? path.join(lib.ROOT, 'target/debug/paraphe-demo-portal');

export function checkPortal() {
  if (!fs.existsSync(PORTAL_BIN)) throw new Error(`missing demo portal (cargo build -p paraphe-demo-portal): ${PORTAL_BIN}`);
}

/**
 * Starts the portal trusting the kit's CA (and the CA files in `trust`). `origin`: the origin
 * browsers will report for it (default: its own http address). Resolves to {url (direct http), origin, close}.
 */
export function startPortal(kit, { origin, listen = '127.0.0.1:0', bin = PORTAL_BIN, trust = [] } = {}) {
  const args = ['--listen', listen, '--trust-ca', path.join(kit, 'pki/ca.crt')];
  for (const ca of trust) args.push('--trust-ca', ca);
  if (origin) args.push('--origin', origin);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`portal did not start: ${log}`)); }, 20_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`portal exited (${code}): ${log}`)); });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /paraphe-demo-portal: (\S+)\/ \(listening on (\S+)\)/.exec(log);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: `http://${m[2]}`,
        origin: m[1],
        log: () => log,
        /** Synchronous, for process 'exit' handlers. */
        kill: () => { if (child.exitCode === null) child.kill('SIGTERM'); },
        close: () => new Promise((r) => {
          if (child.exitCode !== null) { r(); return; }
          child.once('exit', r);
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

/**
 * An https server on 127.0.0.1 that forwards every request to `http://127.0.0.1:<target>`
 * (set later with `setTarget`, since the portal must know this front's origin first).
 */
export async function startHttpsFront(tlsDir) {
  let target = null;
  const server = https.createServer(lib.tlsFor(tlsDir), (req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
    upstream.on('error', (e) => { res.writeHead(502).end(String(e)); });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `https://127.0.0.1:${port}`,
    setTarget: (url) => { target = Number(new URL(url).port); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** The real portal behind an https front. Resolves to {origin (https), url (direct http), close}. */
export async function startHttpsPortal(world, { trust = [] } = {}) {
  const front = await startHttpsFront(world.dir);
  const portal = await startPortal(world.kit, { origin: front.origin, trust });
  front.setTarget(portal.url);
  return {
    origin: front.origin,
    url: portal.url,
    log: portal.log,
    close: async () => { await front.close(); await portal.close(); },
  };
}

/** A fresh challenge from the portal's own endpoint. */
export async function challenge(portalUrl) {
  const r = await fetch(`${portalUrl}/api/challenge`);
  return (await r.json()).nonce;
}

/** POSTs a token to the portal's login endpoint, as its login page does. */
export async function postLogin(portalUrl, token, nonce) {
  const r = await fetch(`${portalUrl}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, nonce }),
  });
  return { status: r.status, body: await r.json() };
}

/**
 * Checks a `web-eid:1.0` RS256 token without Paraphe's code: the certificate is the kit's
 * authentication certificate `id`, and openssl verifies the signature over
 * SHA-256(origin) ‖ SHA-256(nonce) with its public key.
 */
export function opensslVerifiesToken(world, id, token, origin, nonce) {
  const der = execFileSync('openssl', ['x509', '-in', path.join(world.kit, 'pki', `${id}.crt`), '-outform', 'DER']);
  if (token.unverifiedCertificate !== der.toString('base64')) return false;
  if (token.format !== 'web-eid:1.0' || token.algorithm !== 'RS256') return false;
  const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest();
  const message = path.join(world.dir, `token-${Date.now()}.msg`);
  const sig = `${message}.sig`;
  fs.writeFileSync(message, Buffer.concat([sha256(origin), sha256(nonce)]));
  fs.writeFileSync(sig, Buffer.from(token.signature, 'base64'));
  try {
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', path.join(world.kit, 'pki', `${id}.pub.pem`),
      '-signature', sig, message], { encoding: 'utf8' });
    return out.trim() === 'Verified OK';
  } catch {
    return false;
  }
}
