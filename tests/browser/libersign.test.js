// The platforms agents already use, end to end in headless Chromium and Firefox ESR, through
// the real host and SoftHSM (docs/LIBERSIGN.md), with the calls their pages make, in their
// order (pages/libersign-wrapper.js logs them), driven by clicks:
// - s2low's act page: the wrapper lists the certificates and signs two acts (CMS, one SHA-1 as
//   s2low sends, one SHA-256) under one consent; each answer passes s2low's own checks
//   (base64 of a PEM PKCS7; `openssl pkcs7 -print_certs | openssl x509`, `openssl smime
//   -inform PEM -verify -noverify -content`) and verifies against the CA;
// - iParapheur 4: getVersion before anything, then a dossier signed and co-signed with the
//   first answer sent back as `p7s`;
// - iParapheur 4 PAdES: PDF dossiers prepared the way its server does (iparapheur_pades_server.py,
//   pyHanko: placeholder, SHA-1 of the /ByteRange as `hash`), `PADES` and `PADES-basic` in one
//   batch, each answer written into its PDF as the server does; pdfsig and pyHanko verify
//   them; the next signatory's signature is added to the signed PDF and both verify;
// - s2low's Hélios batch page: two PES V2 files of two bordereaux (ISO-8859-1, accents), one
//   entry per file, digests computed as s2low does (extract, `xmlstarlet c14n
//   --exc-without-comments`, SHA-256): each returned signature is inserted into its bordereau
//   as s2low's injectSignature does, the file verifies with `xmlsec1 --verify --id-attr:Id
//   Bordereau` and passes DGFiP-style checks;
// - an origin not on the allow-list has no `window.LiberSign`; UPDATE is answered « up to
//   date » and nothing is fetched from the update URL;
// - iParapheur 5 / EU DSS: `signData` through the page API, SHA256withRSA and ECDSA (DER);
// - Pastell 4 (LiberSign v2): a page laid out as Pastell's with Libriciel's published
//   `<ls-libersign>` element (npm @libriciel/ls-elements-native) and Pastell's calls, the
//   test server standing for Pastell and its crypto service: the form Pastell receives has
//   PUBKEY (the certificate's DER) and signature values that `openssl dgst -sha256 -verify`
//   accepts against the dataToSign; malformed dataToSign fails before any window;
// - the first page load: a fresh profile with the site in the administrator's policy gets the
//   object in the first page, and at document_start on every load after (and, in Chromium, on
//   the first load after a restart).
// The allow-list comes from the options page in Chromium (the person's list) and from
// managed storage in Firefox (an administrator's policy).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import * as lib from './lib.js';

const T = { timeout: 90_000 };
// The PAdES scenario starts pyHanko a dozen times (the server's steps, the checks): seconds
// each on a loaded machine.
const T_PADES = { timeout: 300_000 };
const PAGES = path.join(lib.ROOT, 'tests/browser/pages');
const KIT_POLICY = '2.25.329800735698586629295641978511506172918.2';
const DGFIP_POLICY = {
  pespolicyid: 'urn:oid:1.2.250.1.131.1.5.18.21.1.7',
  pespolicydesc: 'Politique de signature Helios de la DGFiP',
  pespolicyhash: 'roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=',
  pesspuri: 'https://www.collectivites-locales.gouv.fr/files/files/finances_locales/dematerialisation/ps_helios_dgfip.pdf',
};

// ---- fixture ---------------------------------------------------------------------------------

/** A token world whose host knows the kit's test policy as RGS ** (so `verifiedWith` has RGS). */
function makeWorld(prefix) {
  // Gated (tests/kit/pkcs11-gate): a signature can be held at a known point.
  const world = lib.makeWorld(prefix, { gated: true });
  const config = JSON.parse(fs.readFileSync(world.env.PARAPHE_CONFIG, 'utf8'));
  config.policies = [{ oid: KIT_POLICY, name: 'Paraphe test PKI', rgsLevel: '**' }];
  fs.writeFileSync(world.env.PARAPHE_CONFIG, JSON.stringify(config));
  return world;
}

function tls(dir) {
  const key = path.join(dir, 'tls.key');
  const cert = path.join(dir, 'tls.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/** The test portal: its pages, the client library, an update URL; every request is logged. */
async function startServer(tlsDir) {
  const requests = [];
  const files = {
    '/libersign.html': path.join(PAGES, 'libersign.html'),
    '/libersign-wrapper.js': path.join(PAGES, 'libersign-wrapper.js'),
    '/sign.html': path.join(PAGES, 'sign.html'),
    '/paraphe.js': path.join(lib.ROOT, 'extension/src/page/paraphe.js'),
    // What LiberSign's getCertificates fetched before listing: must never be asked for.
    '/libersign/update.json': null,
    // Pastell 4's signing page: jQuery and Libriciel's published LiberSign v2 element.
    '/pastell4.html': path.join(PAGES, 'pastell4.html'),
    '/jquery.js': path.join(lib.ROOT, 'tests/browser/node_modules/jquery/dist/jquery.js'),
    '/ls-elements.js': path.join(lib.ROOT, 'tests/browser/node_modules/@libriciel/ls-elements-native/ls-elements.js'),
  };
  const pastell = pastellServer();
  const handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push(url.pathname);
    if (req.method === 'POST' && pastell.routes[url.pathname]) {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => pastell.routes[url.pathname](Object.fromEntries(new URLSearchParams(body)), res));
      return;
    }
    if (!(url.pathname in files)) {
      res.writeHead(404).end();
      return;
    }
    const file = files[url.pathname];
    if (!file) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"files":[{"file":"evil.jar","hash":"00"}]}');
      return;
    }
    const type = file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(fs.readFileSync(file));
  };
  const server = tlsDir ? https.createServer(tls(tlsDir), handler) : http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const scheme = tlsDir ? 'https' : 'http';
  return {
    port,
    requests,
    pastell,
    origin: `${scheme}://127.0.0.1:${port}`,
    otherOrigin: `${scheme}://localhost:${port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * What Pastell 4's server does around `<ls-libersign>` (docs/LIBERSIGN.md, « Pastell 4 »):
 * `doExternalDataApi` gets the certificate the page read from the `sign` event (`PUBKEY`) and
 * answers what Libriciel's crypto service answered for it (`generateDataToSign`): a
 * `dataToSignList` of `{dataToSignBase64}` and a `signatureDateTime`; here two entries of
 * random bytes (the crypto service's are DSS `dataToSign`: canonical SignedInfo, DER signed
 * attributes). `doExternalData` is where the page's form goes once the element fired `signed`:
 * `publicCertificate`, `generatedDataToSign` (that answer, as received) and `dataToSignList`
 * (the signature values, JSON); the crypto service puts each value into its entry as
 * `signatureValue` for `generateSignature`. `next()` resolves with the next form posted.
 */
function pastellServer() {
  const state = { generated: [], posted: [], waiting: [] };
  return {
    state,
    next: () => new Promise((resolve) => {
      if (state.posted.length) resolve(state.posted.shift());
      else state.waiting.push(resolve);
    }),
    routes: {
      '/Document/doExternalDataApi': (form, res) => {
        const entries = [randomBytes(310), randomBytes(520)];
        state.generated.push({ form, entries });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(JSON.stringify({
          dataToSignList: entries.map((bytes) => ({ dataToSignBase64: bytes.toString('base64') })),
          signatureDateTime: 1764633600000,
        }));
      },
      '/Document/doExternalData': (form, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>Pastell</title><p>Signature enregistrée</p>');
        if (state.waiting.length) state.waiting.shift()(form);
        else state.posted.push(form);
      },
    },
  };
}

const sha = (alg, data) => createHash(alg).update(data).digest('hex');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/**
 * What s2low's actes_transac_sign.php does with a CMS answer: `base64_decode`, kept as text in
 * the @CTES XML, then (OpenSSLWrapper) `openssl pkcs7 -in SIG -print_certs | openssl x509` for
 * the signer's certificate and `openssl smime -in SIG -inform PEM -verify -noverify -content
 * FILE` for the document. Then the chain against the kit's CA (s2low's -CApath is its RGS list).
 */
function verifyCms(world, docFile, answerB64, name) {
  const sig = path.join(world.dir, `${name}.p7s`);
  const pem = Buffer.from(answerB64, 'base64');
  fs.writeFileSync(sig, pem);
  const text = pem.toString('latin1');
  assert.match(text, /^-----BEGIN PKCS7-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PKCS7-----\n$/, `${name}: a PEM PKCS7 document, as LiberSign answered`);
  const shell = (cmd) => run('sh', ['-c', cmd]);
  const cert = shell(`openssl pkcs7 -in '${sig}' -print_certs | openssl x509`);
  assert.ok(cert.ok && cert.out.includes('-----BEGIN CERTIFICATE-----'), `openssl pkcs7 -print_certs | openssl x509 (${name}): ${cert.out}`);
  const signer = path.join(world.dir, `${name}.signer.pem`);
  fs.writeFileSync(signer, cert.out.slice(cert.out.indexOf('-----BEGIN CERTIFICATE-----')));
  const fingerprint = (file) => execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], { encoding: 'utf8' });
  assert.equal(fingerprint(signer), fingerprint(path.join(world.kit, 'pki/01.crt')), 'the signer\'s certificate');
  const smime = shell(`openssl smime -in '${sig}' -inform PEM -verify -noverify -content '${docFile}' -out /dev/null`);
  assert.ok(smime.ok && /Verification successful/.test(smime.out), `openssl smime -inform PEM -verify -noverify (${name}): ${smime.out}`);
  const ca = path.join(world.kit, 'pki/ca.crt');
  const chain = run('openssl', ['cms', '-verify', '-binary', '-content', docFile, '-inform', 'PEM', '-in', sig,
    '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null']);
  assert.ok(chain.ok && /Verification successful/.test(chain.out), `openssl cms -verify against the CA (${name}): ${chain.out}`);
  const bad = path.join(world.dir, `${name}.other`);
  fs.writeFileSync(bad, 'another document');
  assert.ok(!shell(`openssl smime -in '${sig}' -inform PEM -verify -noverify -content '${bad}' -out /dev/null`).ok, 'a p7s verified another document');
}

const PYHANKO = path.join(lib.ROOT, 'scripts/pyhanko.sh');
const PADES_SERVER = path.join(lib.ROOT, 'tests/browser/iparapheur_pades_server.py');
const PYHANKO_TOOL = path.join(lib.ROOT, 'formats/tests/pades/pyhanko_tool.py');

/** A one-page PDF with a cross-reference table: a dossier's main document. */
function dossierPdf(dir, name, title) {
  const text = `BT /F1 18 Tf 72 720 Td (${title}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.from(out, 'latin1'));
  return file;
}

/**
 * iParapheur's server before `sign` (iparapheur_pades_server.py, pyHanko): the PDF with its
 * signature dictionary and an empty /Contents, and the SHA-1 of the /ByteRange, the `hash` of
 * the dossier's signatureInformations.
 */
function serverPrepare(pdf, subFilter) {
  const base = pdf.replace(/\.pdf$/, '');
  const doc = { prepared: `${base}.prepared.pdf`, state: `${base}.state.json`, signed: `${base}.signed.pdf` };
  doc.hash = execFileSync(PYHANKO, [PADES_SERVER, 'prepare', pdf, doc.prepared, doc.state, subFilter, 'sha1'], { encoding: 'utf8' }).trim();
  assert.match(doc.hash, /^[0-9a-f]{40}$/);
  return doc;
}

/** iParapheur's server after `sign`: the document's answer (base64 of a PEM PKCS7) into /Contents. */
function serverEmbed(doc, answer) {
  const pem = Buffer.from(answer, 'base64').toString('latin1');
  assert.match(pem, /^-----BEGIN PKCS7-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PKCS7-----\n$/, 'base64 of a PEM PKCS7, as LiberSign and iParapheur\'s mobile clients answer');
  execFileSync(PYHANKO, [PADES_SERVER, 'embed', doc.prepared, doc.state, answer, doc.signed]);
  return doc.signed;
}

/**
 * pdfsig: every signature intact over its byte range (certificates are pyHanko's part), the
 * last one over the whole file; pyHanko: intact, valid, trusted by the kit's CA, earlier
 * signatures allowed by the later revisions. SHA-1 is what iParapheur 4 digests PDFs with, and
 * pyHanko refuses it unless told (`--allow-sha1`). `subFilters`: one per signature, in order.
 */
function verifyPdf(world, file, subFilters) {
  const pdfsig = run('pdfsig', ['-nocert', file]);
  assert.ok(pdfsig.ok, `pdfsig ${file}: ${pdfsig.out}`);
  assert.equal(pdfsig.out.match(/Signature Validation: Signature is Valid\./g)?.length, subFilters.length, pdfsig.out);
  assert.deepEqual([...pdfsig.out.matchAll(/Signature Type: (\S+)/g)].map((m) => m[1]), subFilters, pdfsig.out);
  assert.match(pdfsig.out, /Signer Certificate Common Name: Camille Martin/);
  assert.match(pdfsig.out, /Signing Hash Algorithm: SHA1/);
  assert.match(pdfsig.out, /Total document signed/);
  const ca = path.join(world.kit, 'pki/ca.crt');
  const hanko = run(PYHANKO, [PYHANKO_TOOL, 'validate', '--allow-sha1', file, ca]);
  assert.ok(hanko.ok, `pyHanko validate ${file}: ${hanko.out}`);
  const lines = hanko.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.subFilter, l.digest, l.intact, l.valid, l.trusted, l.bottomLine]),
    subFilters.map((f) => [`/${f}`, 'sha1', true, true, true, true]), hanko.out);
  assert.equal(lines.at(-1).coverage, 'ENTIRE_FILE', hanko.out);
  for (const l of lines.slice(0, -1)) assert.deepEqual([l.coverage, l.docmdpOk], ['ENTIRE_REVISION', true], hanko.out);
}

/** A PES_Aller with two bordereaux, accented text, entities and a comment, in ISO-8859-1. */
function pesFile(dir, name = 'pes.xml', ids = ['BORD-2026-001', 'BORD-2026-002']) {
  const text = `<?xml version="1.0" encoding="ISO-8859-1"?>
<n:PES_Aller xmlns:n="http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller">
  <Enveloppe><Parametres><Version V="2"/><TypFic V="PESALR2"/><NomFic V="PESALR2_déjà_vu"/></Parametres></Enveloppe>
  <EnTetePES><DteStr V="2026-05-28"/><LibelleColBud V="Mairie de Saint-Étienne &amp; environs"/></EnTetePES>
  <!-- deux bordereaux -->
  <PES_DepenseAller>
    <EnTeteDepense><IdVer V="2"/></EnTeteDepense>
    <Bordereau Id="BORD-2026-001">
      <BlocBordereau><Exer V="2026"/><IdBord V="1"/><MtBordHT V="1234.56"/></BlocBordereau>
      <Piece><InfoPce><IdPce V="1"/><Obj V="Fournitures « café » &amp; thé &lt;lot 1&gt;"/></InfoPce></Piece>
    </Bordereau>
    <Bordereau Id="BORD-2026-002">
      <BlocBordereau><Exer V="2026"/><IdBord V="2"/><MtBordHT V="99.00"/></BlocBordereau>
      <Piece><InfoPce><IdPce V="2"/><Obj V="Réparation du clocher de l'église"/></InfoPce></Piece>
    </Bordereau>
  </PES_DepenseAller>
</n:PES_Aller>
`;
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.from(text.replace('BORD-2026-001', ids[0]).replace('BORD-2026-002', ids[1]), 'latin1'));
  return file;
}

/** The digest s2low sends for a bordereau: extracted alone, exclusive C14N, SHA-256. */
function bordereauDigest(dir, file, id) {
  const extracted = execFileSync('xmlstarlet', ['sel', '-t', '-c', `//Bordereau[@Id='${id}']`, file]);
  const tmp = path.join(dir, `extracted-${id}.xml`);
  fs.writeFileSync(tmp, extracted);
  return sha('sha256', execFileSync('xmlstarlet', ['c14n', '--exc-without-comments', tmp]));
}

/** s2low's injectSignature: split on ",", base64-decode, documentElement.firstChild, last child of the n-th Bordereau. */
function injectSignatures(dir, pes, answer) {
  let doc = fs.readFileSync(pes).toString('latin1');
  answer.split(',').forEach((b64, n) => {
    const signatureDoc = Buffer.from(b64, 'base64');
    const sigFile = path.join(dir, `${path.basename(pes, '.xml')}-signature-${n}.xml`);
    fs.writeFileSync(sigFile, signatureDoc);
    assert.equal(xpath(sigFile, 'name(/*/node()[1])'), 'ds:Signature', 'the signature is documentElement.firstChild');
    const text = signatureDoc.toString('latin1');
    assert.match(text, /^<\?xml version="1\.0" encoding="ISO-8859-1"\?>/);
    const signature = text.match(/<ds:Signature[\s\S]*<\/ds:Signature>/)[0];
    let at = -1;
    for (let k = 0; k <= n; k++) at = doc.indexOf('</Bordereau>', at + 1);
    doc = doc.slice(0, at) + signature + doc.slice(at);
  });
  const out = path.join(dir, `${path.basename(pes, '.xml')}-signed.xml`);
  fs.writeFileSync(out, Buffer.from(doc, 'latin1'));
  return out;
}

function xpath(file, expr) {
  return execFileSync('xmllint', ['--xpath', `string(${expr})`, file], { encoding: 'utf8' }).replace(/\n$/, '');
}

/** xmlsec1 on one signature (it checks both References) and the DGFiP-style checks. */
function checkPesSignature(world, file, id, digestHex) {
  const ca = path.join(world.kit, 'pki/ca.crt');
  const r = run('xmlsec1', ['--verify', '--id-attr:Id', 'Bordereau', '--node-xpath', `//*[@Id='${id}_SIG']`,
    '--trusted-pem', ca, file]);
  assert.ok(r.ok && /OK/.test(r.out), `xmlsec1 --verify ${id}: ${r.out}`);

  const certPem = path.join(world.kit, 'pki/01.crt');
  const der = execFileSync('openssl', ['x509', '-in', certPem, '-outform', 'DER']);
  const sp = `//*[local-name()='SignedProperties'][@Id='${id}_SIG_SP']`;
  assert.equal(xpath(file, `name(//*[@Id='${id}']/*[last()])`), 'ds:Signature', 'last child of its bordereau');
  assert.equal(xpath(file, `//*[@Id='${id}_SIG']//*[local-name()='Reference'][@URI='#${id}_SIG_SP']/@Type`),
    'http://uri.etsi.org/01903/v1.1.1#SignedProperties');
  assert.equal(xpath(file, `//*[@Id='${id}_SIG']//*[local-name()='Reference'][@URI='#${id}']/*[local-name()='DigestValue']`),
    Buffer.from(digestHex, 'hex').toString('base64'), 'the bordereau digest is the server\'s');
  assert.match(xpath(file, `${sp}//*[local-name()='SigningTime']`), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'UTC time');
  assert.equal(xpath(file, `${sp}//*[local-name()='CertDigest']/*[local-name()='DigestValue']`),
    createHash('sha256').update(der).digest('base64'));
  const serialHex = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', certPem], { encoding: 'utf8' }).trim().replace('serial=', '');
  assert.equal(xpath(file, `${sp}//*[local-name()='X509SerialNumber']`), BigInt(`0x${serialHex}`).toString());
  const issuer = execFileSync('openssl', ['x509', '-noout', '-issuer', '-nameopt', 'RFC2253,-esc_msb', '-in', certPem], { encoding: 'utf8' });
  assert.equal(xpath(file, `${sp}//*[local-name()='X509IssuerName']`), issuer.trim().replace(/^issuer=/, ''));
  assert.equal(xpath(file, `${sp}//*[local-name()='ClaimedRole']`), 'Ordonnateur');
  assert.equal(xpath(file, `${sp}//*[local-name()='City']`), 'Saint-Étienne');
  assert.equal(xpath(file, `${sp}//*[local-name()='SigPolicyId']/*[local-name()='Identifier']`), DGFIP_POLICY.pespolicyid);
  const keyUsage = execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage', '-in', certPem], { encoding: 'utf8' });
  assert.match(keyUsage, /Non Repudiation/);
}

/**
 * Posts a raw LiberSign protocol message and returns the answer with its nonce, or null after
 * `waitMs`: short where nobody may answer, a hang guard (30 s) where an answer is expected.
 */
const ANSWER_MS = 30_000;
const RAW = async (message, waitMs) => {
  const nonce = `raw-${Math.random()}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    window.addEventListener('message', (ev) => {
      if (ev.data?.src === 'service_worker.js' && ev.data.nonce === nonce) {
        clearTimeout(timer);
        resolve(ev.data);
      }
    });
    window.postMessage({ ...message, src: 'page.js', nonce }, '*');
  });
};

// ---- the same scenarios, driven by either browser ---------------------------------------------

// PARAPHE_BROWSERS="chromium firefox" (run.sh sets it from its arguments): which browsers.
const BROWSERS = (process.env.PARAPHE_BROWSERS ?? 'chromium firefox').split(/[\s,]+/);

function scenarios(name, h) {
  if (!BROWSERS.includes(name.toLowerCase())) return;
  describe(name, () => {
    let world;
    let server;
    let browser;

    before(async () => {
      lib.checkPrerequisites();
      world = makeWorld(`libersign-${name.toLowerCase()}`);
      ({ server, browser } = await h.start(world));
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
      else world?.cleanup();
    });

    /** Opens the wrapper page with these signatureInformations; resolves when certificates show. */
    async function wrapperPage(siginfos, flavor = 's2low') {
      const page = await h.open(browser, `${server.origin}/libersign.html?flavor=${flavor}&siginfos=${encodeURIComponent(JSON.stringify(siginfos))}`);
      await h.waitFor(page, () => document.querySelector('tbody.certificateList tr') !== null);
      return page;
    }

    async function signThrough(page, certificateId, expectItems) {
      const before_ = await h.known(browser);
      await h.click(page, `tr[data-id="${certificateId}"]`);
      await h.click(page, '#libersign-confirm');
      const consent = await h.consent(browser, before_);
      assert.equal(await h.text(consent, '#origin'), server.origin);
      const items = await h.text(consent, '#items');
      for (const re of expectItems) assert.match(items, re);
      await h.confirm(consent, certificateId, lib.PIN);
      await h.waitFor(page, () => document.getElementById('libersign_result').textContent.length > 0
        || document.getElementById('libersign-error')?.style.display === '');
      const error = await h.eval(page, () => document.getElementById('libersign-message')?.textContent ?? '');
      assert.equal(error, '', `the wrapper shows an error: ${error}`);
      return JSON.parse(await h.eval(page, () => document.getElementById('libersign_result').textContent));
    }

    test('the wrapper lists the certificates; two acts (CMS, SHA-1 and SHA-256) under one consent', T, async () => {
      const act1 = path.join(world.dir, 'deliberation.pdf');
      const act2 = path.join(world.dir, 'arrete.pdf');
      fs.writeFileSync(act1, randomBytes(20_000));
      fs.writeFileSync(act2, Buffer.concat([Buffer.from('%PDF-1.7 Arrêté n° 42\n', 'utf8'), randomBytes(5000)]));
      const siginfos = [
        { hash: sha('sha1', fs.readFileSync(act1)), format: 'CMS' },
        { hash: sha('sha256', fs.readFileSync(act2)), format: 'CMS', p7s: null, iddoc: 'ARR-42' },
      ];
      const page = await wrapperPage(siginfos);
      assert.equal(await h.eval(page, () => window.earlyLiberSignType), 'object', 'defined before the page\'s first script');
      const fp = world.fingerprint('01');
      const rowText = await h.text(page, `tr[data-id="${fp}"]`);
      assert.match(rowText, /Camille Martin/);
      assert.match(rowText, /RGS/, 'verifiedWith has RGS for an RGS-level certificate');
      assert.match(rowText, /CN=AC Racine Paraphe Test, OU=0002 00000000000000, O=Paraphe Test, C=FR/);
      assert.match(await h.text(page, `tr[data-id="${fp}"] .expiry`), /^\d\d\/\d\d\/20\d\d$/, 'new Date(NOTAFTER) works');

      const signatures = await signThrough(page, fp, [new RegExp(siginfos[0].hash), new RegExp(siginfos[1].hash), /ARR-42/]);
      assert.equal(signatures.length, 2);
      verifyCms(world, act1, signatures[0], 'act1');
      verifyCms(world, act2, signatures[1], 'act2');
      const progress = await h.eval(page, () => window.progressLog);
      assert.ok(progress.length >= 3, `libersignmessage progress: ${JSON.stringify(progress)}`);
      assert.deepEqual(await h.eval(page, () => window.libersignCalls), ['typeof', 'setUpdateUrl', 'getCertificates', 'sign'], 's2low\'s calls');
      await page.close();
    });

    test('iParapheur 4: getVersion first; a CMS co-signature of LiberSign\'s own PEM answer', T, async () => {
      const doc = path.join(world.dir, 'dossier.pdf');
      fs.writeFileSync(doc, Buffer.concat([Buffer.from('%PDF-1.4 Délibération\n', 'utf8'), randomBytes(8000)]));
      const hash = sha('sha1', fs.readFileSync(doc));
      const fp = world.fingerprint('01');
      // First signature of the dossier (p7s null, as the server sends it), then the next
      // signatory's: the server sends the stored answer back as `p7s`.
      const first = await wrapperPage([{ hash, format: 'CMS', p7s: null, pesid: null, pesencoding: null }], 'iparapheur');
      assert.deepEqual(await h.eval(first, () => window.libersignCalls), ['typeof', 'getVersion', 'setUpdateUrl', 'getCertificates'], 'iParapheur\'s calls');
      const [answer] = await signThrough(first, fp, [new RegExp(hash)]);
      await first.close();
      verifyCms(world, doc, answer, 'dossier-1');
      const second = await wrapperPage([{ hash, format: 'CMS', p7s: answer }], 'iparapheur');
      const [cosigned] = await signThrough(second, fp, [new RegExp(hash)]);
      assert.deepEqual(await h.eval(second, () => window.libersignCalls), ['typeof', 'getVersion', 'setUpdateUrl', 'getCertificates', 'sign']);
      await second.close();
      verifyCms(world, doc, cosigned, 'dossier-2');
      const printed = run('openssl', ['cms', '-cmsout', '-print', '-inform', 'PEM', '-in', path.join(world.dir, 'dossier-2.p7s')]).out;
      assert.equal(printed.match(/d\.issuerAndSerialNumber:/g)?.length, 2, 'two SignerInfos');
    });

    test('iParapheur 4 PAdES: PADES and PADES-basic dossiers signed in one batch, embedded as its server does; pdfsig and pyHanko verify', T_PADES, async () => {
      // The batch modal: one signatureInformations entry per dossier (dossier.$getSignInfo);
      // a dossier of two main documents has two digests, comma-separated. The fields the
      // server sends for every format come along (null, or the type's place for PAdES).
      const deliberation = serverPrepare(dossierPdf(world.dir, 'deliberation.pdf', 'Deliberation n 2026-042'), 'adbe.pkcs7.detached');
      const annexes = [['arrete.pdf', 'Arrete n 17'], ['convention.pdf', 'Convention de partenariat']]
        .map(([name, title]) => serverPrepare(dossierPdf(world.dir, name, title), 'ETSI.CAdES.detached'));
      const common = { p7s: null, pesid: null, pespolicyid: null, pesencoding: null, pescity: 'Montpellier', pespostalcode: '34000', pescountryname: 'France' };
      const siginfos = [
        { ...common, hash: deliberation.hash, format: 'PADES-basic' },
        { ...common, hash: annexes.map((d) => d.hash).join(','), format: 'PADES' },
      ];
      const fp = world.fingerprint('01');
      const page = await wrapperPage(siginfos, 'iparapheur');
      const signatures = await signThrough(page, fp, [new RegExp(deliberation.hash), ...annexes.map((d) => new RegExp(d.hash)), /PDF/]);
      assert.deepEqual(await h.eval(page, () => window.libersignCalls), ['typeof', 'getVersion', 'setUpdateUrl', 'getCertificates', 'sign'], 'iParapheur\'s calls');
      await page.close();
      assert.equal(signatures.length, 2, 'one answer per dossier');
      verifyPdf(world, serverEmbed(deliberation, signatures[0]), ['adbe.pkcs7.detached']);
      const parts = signatures[1].split(',');
      assert.equal(parts.length, 2, 'one signature per document, comma-joined');
      annexes.forEach((doc, i) => verifyPdf(world, serverEmbed(doc, parts[i]), ['ETSI.CAdES.detached']));

      // The next signatory of the circuit: the server prepares the signed PDF again (a new
      // revision); the first signature still covers its revision.
      const next = serverPrepare(deliberation.signed, 'adbe.pkcs7.detached');
      const second = await wrapperPage([{ ...common, hash: next.hash, format: 'PADES-basic' }], 'iparapheur');
      const [answer] = await signThrough(second, fp, [new RegExp(next.hash)]);
      await second.close();
      verifyPdf(world, serverEmbed(next, answer), ['adbe.pkcs7.detached', 'adbe.pkcs7.detached']);
    });

    test('Hélios batch: two PES V2 files of two bordereaux (ISO-8859-1): inserted signatures verify with xmlsec1 and DGFiP checks', T, async () => {
      // helios_batch_sign.php: one signatureInformations entry per PES file, its bordereaux
      // comma-separated; signatures[i] is the file's answer, split on "," by injectSignature.
      const files = [['pes-1.xml', ['BORD-2026-001', 'BORD-2026-002']], ['pes-2.xml', ['BORD-2026-101', 'BORD-2026-102']]]
        .map(([name, ids]) => {
          const file = pesFile(world.dir, name, ids);
          return { file, ids, hashes: ids.map((id) => bordereauDigest(world.dir, file, id)) };
        });
      const siginfos = files.map(({ ids, hashes }) => ({
        hash: hashes.join(','), pesid: ids.join(','), ...DGFIP_POLICY, pescity: 'Saint-Étienne', pespostalcode: '42000',
        pescountryname: 'France', pesclaimedrole: 'Ordonnateur', pesencoding: 'iso-8859-1', format: 'xades-env-1.2.2-sha256',
      }));
      const page = await wrapperPage(siginfos);
      const signatures = await signThrough(page, world.fingerprint('01'), [...files.flatMap((f) => f.hashes.map((x) => new RegExp(x))), /BORD-2026-102/]);
      assert.equal(signatures.length, 2, 'one answer per signatureInformations entry');
      files.forEach(({ file, ids, hashes }, n) => {
        assert.equal(signatures[n].split(',').length, 2, 'comma-joined, one per bordereau');
        const signed = injectSignatures(world.dir, file, signatures[n]);
        assert.ok(fs.readFileSync(signed).includes(Buffer.from('<xad:City>Saint-\xc9tienne</xad:City>', 'latin1')), 'ISO-8859-1 bytes');
        ids.forEach((id, i) => checkPesSignature(world, signed, id, hashes[i]));
      });
      await page.close();
    });

    test('an origin not on the allow-list has no window.LiberSign and no relay', T, async () => {
      const page = await h.open(browser, `${server.otherOrigin}/libersign.html`);
      await h.waitFor(page, () => document.readyState === 'complete');
      assert.equal(await h.eval(page, () => typeof window.LiberSign), 'undefined');
      assert.equal(await h.eval(page, () => window.earlyLiberSignType), 'undefined');
      assert.ok(await h.eval(page, () => document.getElementById('libersign-missing') !== null), 'the wrapper falls back');
      assert.equal(await h.eval(page, RAW, { action: 'ECHO' }, 1000), null, 'nobody answers the protocol');
      await page.close();
    });

    test('UPDATE is answered « up to date »; the update URL is never fetched; the other actions', T, async () => {
      const page = await wrapperPage([]);
      const update = await h.eval(page, RAW, { action: 'UPDATE', file: 'libersign.jar', base64file: Buffer.from('PK evil').toString('base64') }, ANSWER_MS);
      assert.deepEqual([update?.result, update?.updated, update?.uptodate], ['ok', false, true], JSON.stringify(update));
      assert.ok(!server.requests.some((p) => p.startsWith('/libersign/')), `fetched: ${server.requests}`);
      const echo = await h.eval(page, RAW, { action: 'ECHO' }, ANSWER_MS);
      assert.deepEqual([echo?.result, echo?.libersign], ['ok', 'ECHO']);
      assert.equal((await h.eval(page, RAW, { action: 'GETHASH', file: 'libersign.jar' }, ANSWER_MS))?.hash, null);
      assert.match((await h.eval(page, RAW, { action: 'FULLVERSION' }, ANSWER_MS))?.version, /^Paraphe .*paraphe-host/);
      assert.match(await h.eval(page, () => LiberSign.getVersion()), /^\d+\.\d+\.\d+/, 'LiberSign sites (allowed by the person or the administrator) get the version');
      assert.equal(await h.eval(page, () => document.documentElement.dataset.parapheExtension), '1', 'pages learn the extension is there, not its version');
      const bad = await h.eval(page, RAW, { action: 'SIGN', cert: world.fingerprint('01'), sign: [{ hash: 'ab', format: 'PAdES/basic' }] }, ANSWER_MS);
      assert.equal(bad?.result, 'error');
      assert.equal(bad?.code, 'UNSUPPORTED_FORMAT');
      assert.ok(bad?.exception.length > 0);
      assert.equal((await h.eval(page, RAW, { action: 'NOPE' }, ANSWER_MS))?.result, 'error');
      await page.close();
    });

    test('cancelling in the consent window: the wrapper shows error.exception', T, async () => {
      const page = await wrapperPage([{ hash: 'ab'.repeat(20), format: 'CMS' }]);
      const before_ = await h.known(browser);
      await h.click(page, `tr[data-id="${world.fingerprint('01')}"]`);
      await h.click(page, '#libersign-confirm');
      const consent = await h.consent(browser, before_);
      await h.click(consent, '#cancel').catch((e) => { if (!/closed|detached|Target/i.test(e.message)) throw e; });
      await h.waitFor(page, () => document.getElementById('libersign-message').textContent.length > 0);
      assert.match(await h.text(page, '#libersign-message'), /annulée|Cancelled/);
      await page.close();
    });

    test('the consent window closed while signing: the batch stops and says which entries were signed', T, async () => {
      const siginfos = Array.from({ length: 12 }, (_, i) => ({ hash: sha('sha256', `acte ${i}`), format: 'CMS' }));
      const fp = world.fingerprint('01');
      // The known point: 5 signatures made and reported, the 6th held before the token.
      const SIGNED = 5;
      const doneBefore = world.gate.done('C_Sign');
      const held = world.gate.holdAfter('C_Sign', SIGNED);
      const page = await wrapperPage(siginfos);
      const before_ = await h.known(browser);
      await h.click(page, `tr[data-id="${fp}"]`);
      await h.click(page, '#libersign-confirm');
      const consent = await h.consent(browser, before_);
      await h.confirm(consent, fp, lib.PIN);
      try {
        await world.gate.held('C_Sign', held);
        await h.waitFor(page, () => window.progressLog.some((p) => /\b6\D+12\b/.test(p))); // 5 reported
        await consent.close(); // the person closes the window
      } finally {
        world.gate.releaseAll('C_Sign');
      }
      await h.waitFor(page, () => window.libersignError !== undefined);
      const error = await h.eval(page, () => window.libersignError);
      assert.equal(error.code, 'USER_CANCELLED');
      const k = error.signed.length;
      assert.ok(k >= SIGNED && k < siginfos.length, `stopped after ${k}`);
      assert.deepEqual(error.signed, [...Array(k).keys()]);
      assert.deepEqual(error.notSigned, Array.from({ length: siginfos.length - k }, (_, i) => k + i));
      assert.equal(world.gate.done('C_Sign') - doneBefore, k, 'the token made exactly the signatures reported');
      assert.match(await h.text(page, '#libersign-message'), /annulée|[Cc]ancel/);
      await page.close();
    });

    test('iParapheur 5 / EU DSS: signData bytes as SHA256withRSA and SHA256withECDSA (DER)', T, async () => {
      const page = await h.open(browser, `${server.origin}/sign.html`);
      await h.waitFor(page, () => window.parapheLoaded);
      for (const [id, scheme] of [['01', 'rsa-pkcs1'], ['04', 'ecdsa']]) {
        const data = randomBytes(900);
        const file = path.join(world.dir, `dataToSign-${id}.bin`);
        fs.writeFileSync(file, data);
        const before_ = await h.known(browser);
        const answer = h.eval(page, async (b64, fingerprint) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          try {
            return { result: await window.paraphe.signData(bytes, { name: 'dataToSign', certificate: fingerprint }) };
          } catch (e) {
            return { error: { code: e.code, message: e.message } };
          }
        }, data.toString('base64'), world.fingerprint(id));
        const consent = await h.consent(browser, before_);
        assert.match(await h.text(consent, '#items'), new RegExp(sha('sha256', data)));
        await h.confirm(consent, world.fingerprint(id), lib.PIN);
        const { result, error } = await answer;
        assert.equal(error, undefined, JSON.stringify(error));
        assert.equal(result.signatures[0].scheme, scheme);
        assert.ok(lib.opensslVerifies(world, id, file, result.signatures[0].signature), `openssl dgst -sha256 -verify (${id})`);
      }
      await page.close();
    });

    test('Pastell 4: its page with Libriciel\'s <ls-libersign> signs dataToSign as SHA256withRSA; the form gets PUBKEY and the values', T, async () => {
      const page = await h.open(browser, `${server.origin}/pastell4.html`);
      // The element lists the certificates of window.LiberSign.getCertificates() in its table,
      // but this build (Angular 21, zoneless) does not refresh its view when that promise
      // resolves, with Paraphe as with any asynchronous LiberSign (docs/LIBERSIGN.md,
      // « Pastell 4 »): once the answer is in (the page records LiberSign's LISTCERTS answer),
      // an input set from outside (`valid`, one of the element's own) has Angular refresh it.
      await h.waitFor(page, () => window.libersignCertsAnswered === true);
      await h.eval(page, () => document.querySelector('ls-libersign').setAttribute('valid', 'true'));
      await h.waitFor(page, () => document.querySelectorAll('ls-libersign tbody tr').length > 0);
      const row = await h.eval(page, () => [...document.querySelectorAll('ls-libersign tbody tr')]
        .findIndex((tr) => tr.querySelector('td:nth-child(2)')?.textContent.trim() === 'Camille Martin'));
      assert.ok(row >= 0, 'the RSA signing certificate is in the element\'s table');
      const fp = world.fingerprint('01');
      const before_ = await h.known(browser);
      await h.click(page, `ls-libersign tbody tr:nth-child(${row + 1})`);
      await h.click(page, 'ls-libersign button.btn-primary'); // « Signer »: the element fires `sign`
      const posted = server.pastell.next();
      const consent = await h.consent(browser, before_);
      assert.equal(await h.text(consent, '#origin'), server.origin);
      const generated = server.pastell.state.generated.at(-1);
      const items = await h.text(consent, '#items');
      for (const bytes of generated.entries) assert.match(items, new RegExp(sha('sha256', bytes)), 'the window shows each digest');
      assert.match(items, /(Données à signer|Data to sign) 2 (sur|of) 2/, 'and names what is signed');
      await h.confirm(consent, fp, lib.PIN);
      const form = await posted;
      // The form's answer has loaded in the tab (Pastell's page), the known point after which
      // it is closed: Chromium drops a close that races a navigation's commit (radar.test.js).
      await h.waitFor(page, () => document.title === 'Pastell' && document.readyState === 'complete');

      // PUBKEY: the certificate, base64 DER, as the crypto service's publicCertificateBase64.
      const der = execFileSync('openssl', ['x509', '-in', path.join(world.kit, 'pki/01.crt'), '-outform', 'DER']);
      assert.equal(form.publicCertificate, der.toString('base64'));
      assert.equal(generated.form.publicCertificate, der.toString('base64'), 'posted to doExternalDataApi');
      assert.equal(generated.form.csrf_token, 'csrf-test');
      assert.deepEqual(JSON.parse(form.generatedDataToSign).dataToSignList.map((e) => e.dataToSignBase64),
        generated.entries.map((b) => b.toString('base64')));
      const values = JSON.parse(form.dataToSignList);
      assert.equal(values.length, generated.entries.length, 'one signature value per dataToSign, in order');
      const pub = path.join(world.dir, 'pastell-pubkey.pem');
      fs.writeFileSync(pub, execFileSync('openssl', ['x509', '-pubkey', '-noout', '-inform', 'DER'], { input: Buffer.from(form.publicCertificate, 'base64') }));
      values.forEach((value, i) => {
        const data = path.join(world.dir, `pastell-dataToSign-${i}.bin`);
        const sig = path.join(world.dir, `pastell-signature-${i}.bin`);
        fs.writeFileSync(data, generated.entries[i]);
        fs.writeFileSync(sig, Buffer.from(value, 'base64'));
        const r = run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, data]);
        assert.ok(r.ok && /Verified OK/.test(r.out), `openssl dgst -sha256 -verify with PUBKEY, dataToSign ${i}: ${r.out}`);
      });
      await page.close();
    });

    test('Pastell 4: a dataToSign request that is not base64 text fails before any window', T, async () => {
      const page = await h.open(browser, `${server.origin}/pastell4.html`);
      await h.waitFor(page, () => typeof window.LiberSign === 'object');
      for (const infos of [{ dataToSign: 'AAEC' }, { dataToSign: [] }, { dataToSign: [42] }, { dataToSign: ['pas du base64 !'] }]) {
        const error = await h.eval(page, async (id, signatureInformations) => {
          try {
            await window.LiberSign.sign(id, signatureInformations);
            return null;
          } catch (e) {
            return { code: e.code, exception: e.exception };
          }
        }, world.fingerprint('01'), infos);
        assert.equal(error?.code, 'INVALID_REQUEST', `${JSON.stringify(infos)}: ${JSON.stringify(error)}`);
      }
      await page.close();
    });

    if (h.revoke) {
      test('removing the site in the options takes window.LiberSign away', T, async () => {
        await h.revoke(browser, server);
        const page = await h.open(browser, `${server.origin}/libersign.html`);
        await h.waitFor(page, () => document.readyState === 'complete');
        assert.equal(await h.eval(page, () => typeof window.LiberSign), 'undefined');
        await page.close();
      });
    }
  });
}

// ---- Chromium (playwright-core): the person's allow-list, through the options page -----------


scenarios('Chromium', {
  async start(world) {
    const server = await startServer();
    const userDataDir = path.join(world.dir, 'chromium');
    lib.writeHostManifest('chromium', path.join(userDataDir, 'NativeMessagingHosts/fr.paraphe.host.json'));
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: lib.chromiumExecutable(world.dir),
      headless: true,
      env: world.env,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        `--disable-extensions-except=${lib.EXT.chromium}`, `--load-extension=${lib.EXT.chromium}`],
    });
    const isOurs = (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`);
    const worker = browser.serviceWorkers().find(isOurs) ?? await browser.waitForEvent('serviceworker', { predicate: isOurs, timeout: 10_000 });
    await lib.storeChromium(browser, { allowLoopbackHttp: true });
    // The person adds the portal in the options page.
    const options = await browser.newPage();
    await options.goto(`chrome-extension://${lib.CHROMIUM_ID}/options/options.html`);
    await options.fill('#libersign-origin', `${server.origin}/`);
    await options.click('#libersign-add');
    await options.waitForSelector(`.libersign-remove[data-origin="${server.origin}"]`);
    const pattern = `${server.origin}/*`;
    for (let i = 0; !(await options.evaluate(async (p) => (await chrome.scripting.getRegisteredContentScripts())
      .some((s) => s.id === 'libersign-page' && s.matches.includes(p)), pattern)); i++) {
      if (i > 100) throw new Error('the LiberSign scripts were not registered');
      await new Promise((r) => setTimeout(r, 100));
    }
    await options.close();
    return { server, browser };
  },
  async revoke(browser, server) {
    const options = await browser.newPage();
    await options.goto(`chrome-extension://${lib.CHROMIUM_ID}/options/options.html`);
    await options.click(`.libersign-remove[data-origin="${server.origin}"]`);
    for (let i = 0; await options.evaluate(async () => (await chrome.scripting.getRegisteredContentScripts())
      .some((s) => s.id.startsWith('libersign-'))); i++) {
      if (i > 100) throw new Error('the LiberSign scripts stayed registered');
      await new Promise((r) => setTimeout(r, 100));
    }
    await options.close();
  },
  async open(browser, url) {
    const page = await browser.newPage();
    await page.goto(url);
    return page;
  },
  waitFor: (page, fn) => page.waitForFunction(fn, undefined, { timeout: 20_000 }),
  eval: (page, fn, ...args) => page.evaluate(([text, a]) => {
    // eslint-disable-next-line no-new-func
    const f = new Function(`return (${text})`)();
    return f(...a);
  }, [fn.toString(), args]),
  text: (page, selector) => page.textContent(selector),
  click: (page, selector) => page.click(selector),
  // Listens for the consent window before the action that opens it.
  known: async (browser) => {
    const next = browser.waitForEvent('page', {
      predicate: (x) => x.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/consent/`), timeout: 20_000,
    });
    next.catch(() => {});
    return { next };
  },
  async consent(browser, known) {
    const p = await known.next;
    await p.waitForSelector('#main:not([hidden])');
    return p;
  },
  async confirm(consent, fingerprint, pin) {
    await consent.check(`input[name=certificate][value="${fingerprint}"]`);
    await consent.fill('#pin', pin);
    await consent.click('#confirm');
  },
});

// ---- Firefox ESR (puppeteer-core, WebDriver BiDi): an administrator's policy -------------------

const UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';

scenarios('Firefox', {
  async start(world) {
    const server = await startServer(world.dir);
    const home = path.join(world.dir, 'home');
    lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
    // Managed storage as an administrator deploys it (Linux, per user).
    const managed = path.join(home, '.mozilla/managed-storage', `${lib.GECKO_ID}.json`);
    fs.mkdirSync(path.dirname(managed), { recursive: true });
    fs.writeFileSync(managed, JSON.stringify({
      name: lib.GECKO_ID, description: 'Paraphe policy', type: 'storage', data: { libersignOrigins: [server.origin] },
    }));
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: lib.firefoxExecutable(world.dir),
      headless: true,
      acceptInsecureCerts: true,
      env: { ...world.env, HOME: home },
      extraPrefsFirefox: { 'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: UUID }) },
    });
    assert.equal(await browser.installExtension(lib.EXT.firefox), lib.GECKO_ID);
    // The background registers the page scripts when it starts; wait until a page has them.
    const page = await browser.newPage();
    const deadline = Date.now() + 15_000;
    for (;;) {
      await page.goto(`${server.origin}/sign.html`);
      if (await page.evaluate(() => typeof window.LiberSign) === 'object') break;
      if (Date.now() > deadline) throw new Error('window.LiberSign never appeared on the allowed origin');
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.close();
    server.requests.length = 0;
    return { server, browser };
  },
  async open(browser, url) {
    const page = await browser.newPage();
    await page.goto(url);
    return page;
  },
  waitFor: (page, fn) => page.waitForFunction(fn, { timeout: 20_000 }),
  // A key press first (Shift): consent windows open only for a page the person is using, and
  // Firefox stops giving BiDi evaluations a user activation once an extension window opened.
  eval: async (page, fn, ...args) => {
    await page.keyboard.press('Shift');
    return page.evaluate(fn, ...args);
  },
  text: (page, selector) => page.$eval(selector, (e) => e.textContent),
  click: (page, selector) => page.click(selector),
  known: async (browser) => new Set(await browser.pages()),
  async consent(browser, known) {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      for (const p of await browser.pages()) {
        if (known.has(p)) continue;
        const href = await p.evaluate(() => location.href).catch(() => '');
        if (href.startsWith(`moz-extension://${UUID}/consent/`)) {
          await p.waitForSelector('#main:not([hidden])');
          // The buttons answer 750 ms after the window shows (consent/consent.js).
          await p.waitForSelector('#confirm:not([disabled])');
          return p;
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error('no consent window');
  },
  async confirm(consent, fingerprint, pin) {
    await consent.click(`input[name=certificate][value="${fingerprint}"]`);
    await consent.$eval('#pin', (el) => { el.value = ''; });
    await consent.type('#pin', pin);
    await consent.click('#confirm');
  },
});

// ---- the first page load: a fresh profile, the site allowed by the administrator's policy ----
//
// s2low and iParapheur test `typeof LiberSign === 'object'` once. The page is opened at once,
// right after the browser started with the extension just installed: it must get the object
// without being reloaded (injected into the open page once the policy is known, if it loaded
// before), and every load after that at document_start; after a browser restart (Chromium: the
// same profile), the very first load has it before the page's first script.

function firstLoad(name, h) {
  if (!BROWSERS.includes(name.toLowerCase())) return;
  describe(`${name}: the first page load`, () => {
    let world;
    let server;
    before(async () => {
      lib.checkPrerequisites();
      world = makeWorld(`libersign-first-${name.toLowerCase()}`);
      server = await startServer(world.dir);
    });
    after(async () => {
      await server?.close();
      if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
    });

    test('a fresh profile, the site allowed by policy: window.LiberSign on the first load', { ...T, skip: h.skip?.() }, async () => {
      let browser = await h.launch(world, server);
      try {
        // The first page, opened at once.
        let page = await h.open(browser, `${server.origin}/libersign.html`);
        await h.waitFor(page, () => typeof window.LiberSign === 'object');
        // A wrapper started now finds it, and it answers.
        assert.match(await h.eval(page, () => LiberSign.getVersion()), /^\d+\.\d+\.\d+/);
        // Every load after that has it before the page's first script.
        await page.close();
        page = await h.open(browser, `${server.origin}/libersign.html`);
        assert.equal(await h.eval(page, () => window.earlyLiberSignType), 'object');
        await page.close();
        if (h.relaunch) {
          await browser.close();
          browser = await h.relaunch(world);
          // Chromium drops the registered scripts of an extension loaded unpacked at each start
          // (as at an update): the background registers them again from what it knows, without
          // waiting for the policy. The page opens once that is done.
          await h.registered(browser, server.origin);
          page = await h.open(browser, `${server.origin}/libersign.html`);
          await h.waitFor(page, () => document.readyState === 'complete');
          assert.equal(await h.eval(page, () => window.earlyLiberSignType), 'object', 'the first load after a browser start');
          assert.ok(await h.eval(page, () => document.querySelector('#libersign-missing') === null), 'the wrapper found LiberSign');
        }
      } finally {
        await browser.close();
      }
    });
  });
}

const chromiumFirstLoad = {
  skip: () => (lib.canUnshare() ? false : 'needs root and unshare -m for a private /etc/chromium (Chromium reads policy there only)'),
  async launch(world, server) {
    // The policy in a private /etc/chromium (lib.chromiumExecutable).
    const executablePath = lib.chromiumExecutable(world.dir, { libersignOrigins: [server.origin] });
    this.options = {
      executablePath,
      headless: true,
      ignoreHTTPSErrors: true,
      env: world.env,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        `--disable-extensions-except=${lib.EXT.chromium}`, `--load-extension=${lib.EXT.chromium}`],
    };
    this.profile = path.join(world.dir, 'chromium-first-load');
    return chromium.launchPersistentContext(this.profile, this.options);
  },
  relaunch() {
    return chromium.launchPersistentContext(this.profile, this.options);
  },
  async registered(browser, origin) {
    const isOurs = (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`);
    const worker = browser.serviceWorkers().find(isOurs) ?? await browser.waitForEvent('serviceworker', { predicate: isOurs, timeout: 60_000 });
    await worker.evaluate(async (pattern) => {
      while (!(await chrome.scripting.getRegisteredContentScripts()).some((s) => s.id === 'libersign-page' && s.matches.includes(pattern))) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }, `${origin}/*`);
  },
  async open(browser, url) {
    const page = await browser.newPage();
    await page.goto(url);
    return page;
  },
  waitFor: (page, fn) => page.waitForFunction(fn, undefined, { timeout: 60_000 }),
  eval: (page, fn) => page.evaluate(fn),
};

const firefoxFirstLoad = {
  async launch(world, server) {
    const home = path.join(world.dir, 'home-first-load');
    lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
    const managed = path.join(home, '.mozilla/managed-storage', `${lib.GECKO_ID}.json`);
    fs.mkdirSync(path.dirname(managed), { recursive: true });
    fs.writeFileSync(managed, JSON.stringify({
      name: lib.GECKO_ID, description: 'Paraphe policy', type: 'storage', data: { libersignOrigins: [server.origin] },
    }));
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: lib.firefoxExecutable(world.dir),
      headless: true,
      acceptInsecureCerts: true,
      env: { ...world.env, HOME: home },
      extraPrefsFirefox: { 'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: UUID }) },
    });
    assert.equal(await browser.installExtension(lib.EXT.firefox), lib.GECKO_ID);
    return browser;
  },
  async open(browser, url) {
    const page = await browser.newPage();
    await page.goto(url);
    return page;
  },
  waitFor: (page, fn) => page.waitForFunction(fn, { timeout: 60_000 }),
  eval: (page, fn) => page.evaluate(fn),
};

firstLoad('Chromium', chromiumFirstLoad);
firstLoad('Firefox', firefoxFirstLoad);
