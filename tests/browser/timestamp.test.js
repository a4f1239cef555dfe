// Baseline B-T (issue #17): PAdES and CAdES through the page API with a time-stamp authority
// configured (`timestampUrl`: in Chromium the person's option, common/store.js as the options
// page sets it; in Firefox the administrator's policy, managed storage), end to end in headless
// Chromium and Firefox ESR with the real extension, host and SoftHSM token. The authority is a
// real one: `openssl ts -reply` behind a small plain-http server here (many authorities serve
// RFC 3161 over http), with a TSA certificate (extendedKeyUsage critical timeStamping) issued
// by the kit's CA.
// - two PDFs and a CAdES .p7s: the authority got one RFC 3161 request per signature
//   (Content-Type application/timestamp-query; openssl reads it: SHA-256, a nonce, certReq),
//   whose imprint is the SHA-256 of the signature value; each signed PDF verifies with pdfsig
//   and pyHanko's validator, which reports its signature time-stamp intact, valid and trusted;
//   the .p7s with `openssl cms -verify`; each token with `openssl ts -verify`. The consent
//   window names the authority.
// - « Signer des fichiers » (Chromium): a PDF chosen in the page comes out time-stamped (its
//   layout, answered by the page itself, has room for the token).
// - the options page (Chromium) shows the authority, refuses a non-http(s) URL, empties it;
// - an authority that answers HTTP 503, one that answers an HTML page, one that refuses (a
//   real openssl rejection, badAlg), one that sends 256 KiB
//   without a Content-Length: TIMESTAMP_FAILED, and no signature comes back (never a B-B one
//   instead).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 300_000 };
const PYHANKO = path.join(lib.ROOT, 'scripts/pyhanko.sh');
const PYHANKO_TOOL = path.join(lib.ROOT, 'formats/tests/pades/pyhanko_tool.py');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}` };
}

function must(cmd, args, options = {}) {
  const r = run(cmd, args, options);
  assert.ok(r.ok, `${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out;
}

// ---- the authority: openssl ts -reply behind http ----------------------------------------------

/** A TSA key and certificate issued by the kit's CA, and its `openssl ts` configuration. */
function makeTsa(world) {
  const dir = path.join(world.dir, 'tsa');
  fs.mkdirSync(dir);
  const at = (f) => path.join(dir, f);
  fs.writeFileSync(at('ext.cnf'), [
    '[tsa]', 'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, nonRepudiation',
    'extendedKeyUsage = critical, timeStamping', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', '',
  ].join('\n'));
  must('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('tsa.key')]);
  must('openssl', ['req', '-new', '-key', at('tsa.key'), '-subj', '/C=FR/O=Paraphe Test/CN=Horodatage Paraphe Test', '-out', at('tsa.csr')]);
  must('openssl', ['x509', '-req', '-in', at('tsa.csr'), '-CA', path.join(world.kit, 'pki/ca.crt'),
    '-CAkey', path.join(world.kit, 'pki/ca.key'), '-set_serial', '0x7510', '-days', '30',
    '-extfile', at('ext.cnf'), '-extensions', 'tsa', '-out', at('tsa.crt')]);
  fs.writeFileSync(at('serial'), '01\n');
  fs.writeFileSync(at('ts.cnf'), [
    '[tsa]', 'default_tsa = t', '[t]', `serial = ${at('serial')}`, 'crypto_device = builtin',
    `signer_cert = ${at('tsa.crt')}`, `certs = ${at('tsa.crt')}`, `signer_key = ${at('tsa.key')}`,
    'signer_digest = sha256', 'default_policy = 1.2.250.1.999.1', 'digests = sha256, sha384, sha512',
    'accuracy = secs:1', 'ordering = no', 'tsa_name = yes', 'ess_cert_id_alg = sha256', '',
  ].join('\n'));
  // The same authority accepting SHA-512 imprints only: it refuses Paraphe's (badAlg).
  fs.writeFileSync(at('ts-sha512.cnf'), fs.readFileSync(at('ts.cnf'), 'utf8').replace(/^digests = .*$/m, 'digests = sha512'));
  return { dir, cert: at('tsa.crt'), config: at('ts.cnf'), refusing: at('ts-sha512.cnf') };
}

/**
 * The authority's HTTP side: POST /tsa. `mode`: 'ok' (openssl ts -reply), 'unavailable'
 * (HTTP 503), 'garbage' (an HTML page with 200), 'huge' (256 KiB, chunked), 'refused' (openssl's
 * own rejection: an authority for SHA-512 imprints only). Every request is kept.
 */
function tsaRoute(tsa) {
  const state = { mode: 'ok', requests: [] };
  let n = 0;
  const route = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      state.requests.push({ method: req.method, type: req.headers['content-type'], body });
      if (state.mode === 'unavailable') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
        return;
      }
      if (state.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bienvenue</body></html>');
        return;
      }
      if (state.mode === 'huge') {
        // 256 KiB in 16 KiB chunks, no Content-Length: the extension gives up past 64 KiB.
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        for (let i = 0; i < 16; i++) res.write(Buffer.alloc(16 * 1024, 0x30));
        res.end();
        return;
      }
      n++;
      const query = path.join(tsa.dir, `q${n}.tsq`);
      const reply = path.join(tsa.dir, `r${n}.tsr`);
      fs.writeFileSync(query, body);
      const config = state.mode === 'refused' ? tsa.refusing : tsa.config;
      const r = run('openssl', ['ts', '-reply', '-config', config, '-queryfile', query, '-out', reply]);
      if (!r.ok) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(r.out);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(fs.readFileSync(reply));
    });
  };
  return { state, route };
}

// ---- reading what was signed -------------------------------------------------------------------

/** One DER element at `at`: {tag, start (of the content), end}. */
function tlv(buf, at) {
  const tag = buf[at];
  let len = buf[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i];
    start += n;
  }
  return { tag, start, end: start + len, raw: buf.subarray(at, start + len) };
}

/** The elements inside a constructed one. */
function children(buf, el) {
  const out = [];
  for (let at = el.start; at < el.end;) {
    const c = tlv(buf, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

/**
 * The first SignerInfo of a CMS ContentInfo: its signature value and the signature
 * time-stamp token of its unsigned attributes (null without one).
 */
function signerInfo(cms) {
  const ci = tlv(cms, 0);
  const signedData = children(cms, children(cms, ci)[1])[0];
  const signerInfos = children(cms, signedData).at(-1);
  const si = children(cms, children(cms, signerInfos)[0]);
  const value = Buffer.from(cms.subarray(si[5].start, si[5].end));
  let token = null;
  if (si[6]?.tag === 0xa1) {
    const oid = Buffer.from('060b2a864886f70d010910020e', 'hex'); // id-aa-signatureTimeStampToken
    for (const attr of children(cms, si[6])) {
      const [type, values] = children(cms, attr);
      if (Buffer.from(type.raw).equals(oid)) token = Buffer.from(children(cms, values)[0].raw);
    }
  }
  return { value, token };
}

/** The CMS of the last signature of a PDF, from its /Contents. */
function pdfCms(pdf) {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('/Contents <') + '/Contents <'.length;
  return Buffer.from(text.slice(at, text.indexOf('>', at)), 'hex');
}

/** `openssl ts -verify` of a token for the SHA-256 of `value`, against the kit's CA. */
function tokenVerifies(world, tsa, token, value) {
  const file = path.join(world.dir, `token-${randomBytes(4).toString('hex')}.der`);
  fs.writeFileSync(file, token);
  const digest = createHash('sha256').update(value).digest('hex');
  const r = run('openssl', ['ts', '-verify', '-token_in', '-in', file, '-digest', digest,
    '-CAfile', path.join(world.kit, 'pki/ca.crt'), '-untrusted', tsa.cert]);
  return { ok: r.ok && /Verification: OK/.test(r.out), out: r.out };
}

/** What openssl reads of a TimeStampReq. */
function queryText(world, body) {
  const file = path.join(world.dir, `query-${randomBytes(4).toString('hex')}.tsq`);
  fs.writeFileSync(file, body);
  return must('openssl', ['ts', '-query', '-in', file, '-text']);
}

/** Runs `fn(paraphe, arg)` in the page and returns {result} or {error}. */
function inPage(page, fn, arg) {
  return page.evaluate(async ([text, a]) => {
    // eslint-disable-next-line no-new-func
    const call = new Function('paraphe', 'arg', `return (${text})(paraphe, arg)`);
    try {
      return { result: await call(window.paraphe, a) };
    } catch (e) {
      return { error: { code: e.code, message: e.message, signed: e.signed, notSigned: e.notSigned, signatures: e.signatures?.length } };
    }
  }, [fn.toString(), arg]);
}

/** In the page: signDocuments of the files given as byte arrays, the results as base64. */
async function signInPage(paraphe, a) {
  const files = a.docs.map((d) => new File([new Uint8Array(d.data)], d.name, { type: d.type }));
  const r = await paraphe.signDocuments(files, { certificate: a.certificate, format: a.format });
  const toBase64 = async (s) => {
    if (typeof s === 'string') return s;
    const bytes = new Uint8Array(await s.arrayBuffer());
    let out = '';
    for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(out);
  };
  return Promise.all(r.signatures.map(async (s) => ({ format: s.format, signature: await toBase64(s.signature) })));
}

for (const kind of driver.browsers()) {
  describe(`${kind}: baseline B-T with a time-stamp authority`, () => {
    let world;
    let tsa;
    let authority;
    let tsaServer;
    let server;
    let browser;
    let page;
    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`timestamp-${kind}`);
      tsa = makeTsa(world);
      authority = tsaRoute(tsa);
      tsaServer = await lib.startServer(null, { '/tsa': authority.route });
      server = await lib.startServer(world.dir);
      browser = await driver.launch(kind, world, { settings: { timestampUrl: `${tsaServer.origin}/tsa` } });
      page = await browser.newPage(`${server.origin}/sign.html`);
      await page.waitForFunction(() => window.parapheLoaded === true);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await tsaServer?.close();
      if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
    });

    /** Signs in the page through the consent window; the answer, and the window (`consent`). */
    const sign = async (docs, format) => {
      const consentP = browser.expectConsent();
      const pending = inPage(page, signInPage, {
        docs: docs.map((d) => ({ ...d, data: [...d.data] })), certificate: world.fingerprint('01'), format,
      });
      const consent = await consentP;
      // The window names the authority the signatures will go to.
      const host = new URL(tsaServer.origin).host;
      assert.ok((await consent.text('#timestamp')).includes(host), await consent.text('#timestamp'));
      assert.ok(await consent.visible('#timestamp'));
      consent.confirm(world.fingerprint('01'), lib.PIN);
      return { ...(await pending), consent };
    };

    test('PAdES B-T (two PDFs) and CAdES B-T: time-stamped by the authority, verified by pdfsig, pyHanko and openssl', T, async () => {
      authority.state.mode = 'ok';
      authority.state.requests.length = 0;
      const pdfs = [1, 2].map((i) => ({ name: `Délibération ${i}.pdf`, type: 'application/pdf', data: lib.simplePdf(40 + i) }));
      const { result, error } = await sign(pdfs, 'pades');
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(result.length, 2);
      const doc = randomBytes(5000);
      const cades = await sign([{ name: 'annexe.ods', type: '', data: doc }], 'cades');
      assert.equal(cades.error, undefined, JSON.stringify(cades.error));

      const requests = authority.state.requests;
      assert.equal(requests.length, 3, 'one time-stamp request per signature');
      const values = [];
      for (const [i, s] of result.entries()) {
        assert.equal(s.format, 'pades');
        const signed = Buffer.from(s.signature, 'base64');
        const original = Buffer.from(pdfs[i].data);
        assert.ok(signed.subarray(0, original.length).equals(original), 'an incremental update');
        const file = path.join(world.dir, `signed-${i}.pdf`);
        fs.writeFileSync(file, signed);
        const pdfsig = run('pdfsig', ['-nocert', file]).out;
        assert.match(pdfsig, /Signature Validation: Signature is Valid\./, pdfsig);
        assert.match(pdfsig, /Total document signed/, pdfsig);
        const py = run(PYHANKO, [PYHANKO_TOOL, 'validate', file, path.join(world.kit, 'pki/ca.crt'), tsa.cert]);
        assert.ok(py.ok, `pyHanko: ${py.out}`);
        const [line] = py.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        assert.equal(line.coverage, 'ENTIRE_FILE', py.out);
        assert.deepEqual([line.timestamp?.intact, line.timestamp?.valid, line.timestamp?.trusted], [true, true, true], py.out);
        assert.match(line.summary, /TIMESTAMP_TOKEN<INTACT:TRUSTED>/, py.out);
        const { value, token } = signerInfo(pdfCms(signed));
        assert.ok(token, 'the SignerInfo carries id-aa-signatureTimeStampToken');
        const v = tokenVerifies(world, tsa, token, value);
        assert.ok(v.ok, `openssl ts -verify: ${v.out}`);
        values.push(value);
      }
      const p7s = Buffer.from(cades.result[0].signature, 'base64');
      const p7sFile = path.join(world.dir, 'annexe.ods.p7s');
      const docFile = path.join(world.dir, 'annexe.ods');
      fs.writeFileSync(p7sFile, p7s);
      fs.writeFileSync(docFile, doc);
      must('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7sFile, '-content', docFile,
        '-CAfile', path.join(world.kit, 'pki/ca.crt'), '-purpose', 'any', '-out', '/dev/null']);
      const { value, token } = signerInfo(p7s);
      assert.ok(token, 'the .p7s carries the signature time-stamp');
      const v = tokenVerifies(world, tsa, token, value);
      assert.ok(v.ok, `openssl ts -verify (CAdES): ${v.out}`);
      values.push(value);

      // What the authority got: RFC 3161 requests over the signature values only.
      const imprints = values.map((x) => createHash('sha256').update(x).digest('hex').toUpperCase());
      for (const r of requests) {
        assert.equal(r.method, 'POST');
        assert.equal(r.type, 'application/timestamp-query');
        const text = queryText(world, r.body);
        assert.match(text, /Hash Algorithm: sha256/, text);
        assert.match(text, /Nonce: 0x[0-9A-F]{16,}/, text);
        assert.match(text, /Certificate required: yes/, text);
      }
      const sent = requests.map((r) => r.body.toString('hex').toUpperCase());
      for (const imprint of imprints) assert.ok(sent.some((b) => b.includes(imprint)), `a request for imprint ${imprint}`);
    });

    if (kind === 'chromium') {
      test('« Signer des fichiers »: a PDF in PAdES B-T (its layout asked with room for the token)', T, async () => {
        authority.state.mode = 'ok';
        authority.state.requests.length = 0;
        const file = path.join(world.dir, 'Offre technique.pdf');
        fs.writeFileSync(file, lib.simplePdf(60, 'Offre'));
        const signPage = await browser.newPage(`chrome-extension://${lib.CHROMIUM_ID}/sign/sign.html`);
        await signPage.waitFor('#files');
        await signPage.raw.setInputFiles('#files', [file]);
        await signPage.raw.waitForFunction(() => document.querySelectorAll('#list li').length === 1);
        const consentP = browser.expectConsent();
        await signPage.click('#sign');
        (await consentP).confirm(world.fingerprint('01'), lib.PIN);
        await signPage.raw.waitForFunction(() => document.body.dataset.result || document.body.dataset.error);
        assert.equal(await signPage.raw.evaluate(() => document.body.dataset.error ?? null), null,
          await signPage.text('#status'));
        const base64 = await signPage.raw.evaluate(async () => {
          const [o] = JSON.parse(document.body.dataset.result);
          const bytes = new Uint8Array(await (await fetch(o.url)).arrayBuffer());
          let out = '';
          for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(out);
        });
        await signPage.close();
        const signed = path.join(world.dir, 'Offre technique signée.pdf');
        fs.writeFileSync(signed, Buffer.from(base64, 'base64'));
        const py = run(PYHANKO, [PYHANKO_TOOL, 'validate', signed, path.join(world.kit, 'pki/ca.crt'), tsa.cert]);
        assert.ok(py.ok, `pyHanko: ${py.out}`);
        const [line] = py.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        assert.deepEqual([line.timestamp?.intact, line.timestamp?.valid, line.timestamp?.trusted], [true, true, true], py.out);
        assert.match(run('pdfsig', ['-nocert', signed]).out, /Signature Validation: Signature is Valid\./);
        assert.equal(authority.state.requests.length, 1);
      });
    }

    const FAILURES = {
      unavailable: ['answers HTTP 503', /HTTP 503/],
      garbage: ['answers an HTML page', /not an RFC 3161 response/],
      refused: ['refuses (openssl: SHA-512 imprints only)', /refused \(status 2, failure 0: /],
      huge: ['sends 256 KiB without a length', /too large \(over 65536 bytes\)/], // given up as it came
    };
    for (const [mode, [what, why]] of Object.entries(FAILURES)) {
      test(`the authority ${what}: TIMESTAMP_FAILED, no signature`, T, async () => {
        authority.state.mode = mode;
        authority.state.requests.length = 0;
        const { result, error, consent } = await sign([{ name: 'acte.pdf', type: 'application/pdf', data: lib.simplePdf(50) }], 'pades');
        // The consent window stays open and says what failed, until the person closes it.
        await consent.waitFor('#status.error');
        assert.match(await consent.text('#status'), /horodatage|time-stamp/, await consent.text('#status'));
        await consent.close();
        await page.bringToFront();
        assert.equal(result, undefined, 'no signature');
        assert.equal(error?.code, 'TIMESTAMP_FAILED', JSON.stringify(error));
        assert.match(error.message, why, error.message);
        assert.deepEqual(error.signed ?? [], []);
        assert.equal(error.signatures ?? 0, 0);
        assert.equal(authority.state.requests.length, 1, 'the card signed, then the authority was asked once');
      });
    }

    if (kind === 'chromium') {
      test('the options page shows the authority, refuses what is not an http(s) URL, and empties it', T, async () => {
        const options = await browser.newPage(`chrome-extension://${lib.CHROMIUM_ID}/options/options.html`);
        await options.waitFor('#timestampUrl');
        await options.waitForFunction(() => document.getElementById('timestampUrl').value !== '');
        assert.equal(await options.raw.inputValue('#timestampUrl'), `${tsaServer.origin}/tsa`);
        const stored = () => options.raw.evaluate(async () => (await import('/common/store.js')).get(['timestampUrl']));
        await options.raw.fill('#timestampUrl', 'ftp://tsa.example.fr/');
        await options.raw.dispatchEvent('#timestampUrl', 'change');
        await options.waitFor('#timestampInvalid:not([hidden])');
        assert.deepEqual(await stored(), { timestampUrl: `${tsaServer.origin}/tsa` }, 'unchanged');
        await options.raw.fill('#timestampUrl', '');
        await options.raw.dispatchEvent('#timestampUrl', 'change');
        await options.waitFor('#saved:not([hidden])');
        assert.deepEqual(await stored(), { timestampUrl: '' }, 'no authority: B-B again');
        await options.close();
      });
    }
  });
}
