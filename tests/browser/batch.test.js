// Signing documents through Paraphe's own page API, end to end in headless Chromium and
// Firefox ESR, real host, SoftHSM token (docs/PAGE-API.md):
// - CAdES detached `.p7s` built by the WASM core (RSA PKCS#1 v1.5, RSA-PSS with a signature
//   policy, ECDSA on the always-authenticate key): `openssl cms -verify` against the kit's CA,
//   and the signing-certificate-v2 hash checked here, independently of OpenSSL;
// - a batch of 100 files under one consent (names, sizes, digests listed) and one PIN, each
//   signature reported to the page as it is made, all verified with openssl;
// - a batch of 200 digests interrupted by killing the host: the token is reached through
//   tests/kit/pkcs11-gate, which lets 20 signatures through and holds the 21st; once it is
//   held and the page has its 20 reports, the host is killed. The page learns that exactly
//   those 20 were signed (their signatures verify) and the 180 others were not, the consent
//   window says so, and the next request works with a new host;
// - the same batch engine stops when the person closes the consent window mid-batch (10
//   signatures reported, the next held at the gate, then the window closed): USER_CANCELLED
//   with exactly the signatures the token made and the page was given;
// - the PIN session: with `pinSessionMinutes` (the person's option in Chromium, the
//   administrator's managed storage in Firefox) the next consent asks no PIN; « Oublier le
//   code PIN » (logout-all) ends it and the PIN is asked again.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

// A hang guard: a batch of 100 on a loaded machine (scripts/stress-suite.sh) takes minutes.
const T = { timeout: 300_000 };
// id-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47), DER.
const SIGNING_CERTIFICATE_V2 = Buffer.from('060b2a864886f70d010910022f', 'hex');
const POLICY = {
  oid: '1.2.250.1.131.1.5.18.21.1.7',
  hash: 'roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=',
  hashAlgorithm: 'sha256',
  uri: 'https://www.collectivites-locales.gouv.fr/files/files/finances_locales/dematerialisation/ps_helios_dgfip.pdf',
};

/** Runs `fn(paraphe, arg)` in the page and returns {result} or {error} (with batch details). */
function inPage(page, fn, arg) {
  return page.evaluate(async ([text, a]) => {
    // eslint-disable-next-line no-new-func
    const call = new Function('paraphe', 'arg', `return (${text})(paraphe, arg)`);
    try {
      return { result: await call(window.paraphe, a) };
    } catch (e) {
      const { code, message, signed, notSigned, signatures } = e;
      return { error: { code, message, signed, notSigned, signatures } };
    }
  }, [fn.toString(), arg]);
}

/** `openssl cms -verify` of a detached `.p7s` over `content` against the kit's CA. */
function cmsVerifies(world, p7sB64, content) {
  const p7s = path.join(world.dir, `sig-${Date.now()}-${Math.random()}.p7s`);
  const data = path.join(world.dir, `content-${Date.now()}-${Math.random()}.bin`);
  fs.writeFileSync(p7s, Buffer.from(p7sB64, 'base64'));
  fs.writeFileSync(data, content);
  const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7s, '-content', data,
    '-CAfile', path.join(world.kit, 'pki/ca.crt'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
  return r.status === 0 && /Verification successful/.test(r.stderr);
}

/** The SHA-256 of the signer's certificate sits in the signing-certificate-v2 attribute. */
function signingCertificateV2Matches(p7sB64, certificateDer) {
  const p7s = Buffer.from(p7sB64, 'base64');
  const at = p7s.indexOf(SIGNING_CERTIFICATE_V2);
  if (at < 0) return false;
  const expected = Buffer.concat([Buffer.from([0x04, 0x20]), createHash('sha256').update(certificateDer).digest()]);
  const window = p7s.subarray(at, at + SIGNING_CERTIFICATE_V2.length + 64);
  return window.includes(expected);
}

const certificateDer = (world, id) => execFileSync('openssl', ['x509', '-in', path.join(world.kit, 'pki', `${id}.crt`), '-outform', 'DER']);

/** The paraphe-host processes started for this world (another run may have its own). */
function hostPids(world) {
  const out = spawnSync('pgrep', ['-f', lib.HOST_BIN], { encoding: 'utf8' }).stdout.trim();
  return out.split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`PARAPHE_CONFIG=${world.env.PARAPHE_CONFIG}\0`);
    } catch {
      return false;
    }
  });
}

/**
 * A token, an https test server and `kind` with the extension, for one describe block;
 * `use({world, browser, page})` receives them once ready. `options` go to driver.launch,
 * `worldOptions` to lib.makeWorld.
 */
function fixture(kind, prefix, options, use, worldOptions = {}) {
  let world;
  let server;
  let browser;
  before(async () => {
    lib.checkPrerequisites();
    world = lib.makeWorld(`${prefix}-${kind}`, worldOptions);
    server = await lib.startServer(world.dir);
    browser = await driver.launch(kind, world, options);
    const page = await browser.newPage(`${server.origin}/sign.html`);
    await page.waitForFunction(() => window.parapheLoaded === true);
    use({ world, browser, page });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
  });
}

for (const kind of driver.browsers()) {
  describe(`${kind}: documents and batches`, () => {
    let world;
    let browser;
    let page;
    // Gated token: the host-dying test holds a signature at the gate (the others pass freely).
    fixture(kind, 'batch', {}, (f) => ({ world, browser, page } = f), { gated: true });

    test('CAdES .p7s: RSA PKCS#1 v1.5, RSA-PSS with a policy, ECDSA on the always-authenticate key', T, async () => {
      const doc = randomBytes(20_000);
      const cases = [
        { id: '01', options: {} },
        { id: '01', options: { scheme: 'rsa-pss', signaturePolicy: POLICY } },
        { id: '04', options: {} },
      ];
      for (const { id, options } of cases) {
        const consent = browser.expectConsent();
        const pending = inPage(page, (paraphe, a) => paraphe.signDocument(
          new File([new Uint8Array(a.doc)], 'deliberation.pdf'), { ...a.options, format: 'cades' }),
        { doc: [...doc], options: { ...options, certificate: world.fingerprint(id) } });
        (await consent).confirm(world.fingerprint(id), lib.PIN);
        const { result, error } = await pending;
        assert.equal(error, undefined, JSON.stringify(error));
        const [s] = result.signatures;
        assert.equal(s.format, 'cades');
        assert.equal(s.scheme, options.scheme ?? (id === '04' ? 'ecdsa' : 'rsa-pkcs1'));
        assert.equal(s.digest, createHash('sha256').update(doc).digest('hex'));
        assert.ok(cmsVerifies(world, s.signature, doc), `${id} ${JSON.stringify(options)}: openssl cms -verify`);
        assert.ok(!cmsVerifies(world, s.signature, Buffer.concat([doc, Buffer.from('x')])), 'another document fails');
        assert.ok(signingCertificateV2Matches(s.signature, certificateDer(world, id)), 'signing-certificate-v2');
        if (options.signaturePolicy) {
          const p7s = Buffer.from(s.signature, 'base64');
          assert.ok(p7s.includes(Buffer.from(POLICY.hash, 'base64')), 'the policy digest is in the signed attributes');
        }
      }
    });

    test('a batch of 100 files: one consent listing them, one PIN, each signature reported as it is made', T, async () => {
      const docs = Array.from({ length: 100 }, (_, i) => ({ name: `acte-${String(i + 1).padStart(3, '0')}.pdf`, data: randomBytes(1000 + i) }));
      const consentP = browser.expectConsent();
      const pending = inPage(page, async (paraphe, a) => {
        const files = a.docs.map((d) => new File([new Uint8Array(d.data)], d.name));
        const seen = [];
        const r = await paraphe.signDocuments(files, {
          certificate: a.certificate,
          onProgress: (p) => seen.push([p.done, p.total, p.signature.index]),
        });
        return { ...r, seen };
      }, { docs: docs.map((d) => ({ name: d.name, data: [...d.data] })), certificate: world.fingerprint('01') });
      const consent = await consentP;
      assert.equal(await consent.count('#items li'), 51, '50 documents listed, then « … et 50 autres »');
      const first = await consent.text('#items li');
      assert.match(first, /acte-001\.pdf/);
      assert.match(first, /1000 o/, 'size shown');
      assert.match(first, new RegExp(createHash('sha256').update(docs[0].data).digest('hex')));
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      const { result, error } = await pending;
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(result.signatures.length, 100);
      assert.deepEqual(result.seen, docs.map((_, i) => [i + 1, 100, i]), 'one report per document, in order');
      for (const [i, s] of result.signatures.entries()) {
        const file = path.join(world.dir, `batch-${i}.bin`);
        fs.writeFileSync(file, docs[i].data);
        assert.ok(lib.opensslVerifies(world, '01', file, s.signature), `document ${i}`);
      }
    });

    test('a batch interrupted by the host dying reports exactly what was signed', T, async () => {
      const digests = Array.from({ length: 200 }, () => randomBytes(32));
      // The known point: 20 signatures made and reported, the 21st held before the token.
      const SIGNED = 20;
      const heldTicket = world.gate.holdAfter('C_Sign', SIGNED);
      const consentP = browser.expectConsent();
      const pending = inPage(page, async (paraphe, a) => {
        window.batchSeen = [];
        await paraphe.signHash({
          hashes: a.hashes.map((digest, i) => ({ digest, hashAlgorithm: 'sha256', name: `mandat-${i + 1}` })),
          certificate: a.certificate,
          onProgress: (p) => window.batchSeen.push(p.signature.index),
        });
      }, { hashes: digests.map((d) => d.toString('hex')), certificate: world.fingerprint('01') });
      const consent = await consentP;
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      try {
        await world.gate.held('C_Sign', heldTicket);
        await page.waitForFunction(() => (window.batchSeen?.length ?? 0) >= 20); // SIGNED
        const pids = hostPids(world);
        assert.ok(pids.length > 0, 'the host runs');
        for (const pid of pids) process.kill(pid, 'SIGKILL');
      } finally {
        // Later hosts sign freely (the held call died with its host).
        world.gate.releaseAll('C_Sign');
      }
      const { result, error } = await pending;
      assert.equal(result, undefined, 'the batch must not complete after the host was killed');
      assert.equal(error.code, 'HOST_UNAVAILABLE');
      const seen = await page.evaluate(() => window.batchSeen);
      assert.deepEqual(seen, [...Array(SIGNED).keys()], 'the page got the first 20, in order, and no more');
      assert.deepEqual(error.signed, seen, 'signed: exactly the documents whose signatures reached the page');
      const k = SIGNED;
      assert.deepEqual(error.notSigned, Array.from({ length: 200 - k }, (_, i) => k + i));
      assert.equal(error.signatures.length, k, 'a signature for every document reported signed');
      const pub = path.join(world.kit, 'pki/01.pub.pem');
      for (const [i, s] of error.signatures.entries()) {
        assert.equal(s.digest, digests[i].toString('hex'));
        const sig = path.join(world.dir, `cut-${i}.sig`);
        const digest = path.join(world.dir, `cut-${i}.digest`);
        fs.writeFileSync(sig, Buffer.from(s.signature, 'base64'));
        fs.writeFileSync(digest, digests[i]);
        const r = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-pkeyopt', 'digest:sha256',
          '-in', digest, '-sigfile', sig], { encoding: 'utf8' });
        assert.equal(r.status, 0, `signature ${i} verifies: ${r.stdout}${r.stderr}`);
      }
      // The consent window stays open and says how far the batch went.
      await consent.waitForFunction(() => /200/.test(document.getElementById('status')?.textContent ?? ''));
      assert.match(await consent.text('#status'), new RegExp(`${k}\\D+200`));
      await consent.close();

      // A new host serves the next request.
      const next = browser.expectConsent();
      const again = inPage(page, (paraphe, a) => paraphe.signHash({ hash: a.hash, certificate: a.certificate }),
        { hash: digests[0].toString('hex'), certificate: world.fingerprint('01') });
      (await next).confirm(world.fingerprint('01'), lib.PIN);
      const second = await again;
      assert.equal(second.error, undefined, JSON.stringify(second.error));
    });

    test('closing the consent window mid-batch stops the batch and reports exactly what was signed', T, async () => {
      const digests = Array.from({ length: 100 }, () => randomBytes(32));
      // The known point: 10 signatures made and reported, the next held before the token.
      const SIGNED = 10;
      const doneBefore = world.gate.done('C_Sign');
      const heldTicket = world.gate.holdAfter('C_Sign', SIGNED);
      const consentP = browser.expectConsent();
      const pending = inPage(page, async (paraphe, a) => {
        window.batchSeen = [];
        await paraphe.signHash({
          hashes: a.hashes.map((digest, i) => ({ digest, hashAlgorithm: 'sha256', name: `mandat-${i + 1}` })),
          certificate: a.certificate,
          onProgress: (p) => window.batchSeen.push(p.signature.index),
        });
      }, { hashes: digests.map((d) => d.toString('hex')), certificate: world.fingerprint('01') });
      const consent = await consentP;
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      try {
        await world.gate.held('C_Sign', heldTicket);
        await page.waitForFunction(() => (window.batchSeen?.length ?? 0) >= 10); // SIGNED
        await consent.close(); // the person closes the window
      } finally {
        world.gate.releaseAll('C_Sign');
      }
      const { result, error } = await pending;
      assert.equal(result, undefined, 'the batch must stop when the window closes');
      assert.equal(error.code, 'USER_CANCELLED');
      const seen = await page.evaluate(() => window.batchSeen);
      assert.ok(seen.length >= SIGNED && seen.length < digests.length, `stopped: ${seen.length} reported`);
      assert.deepEqual(seen, [...Array(seen.length).keys()], 'reports in order');
      assert.deepEqual(error.signed, seen, 'signed: exactly the documents whose signatures reached the page');
      assert.deepEqual(error.notSigned, Array.from({ length: digests.length - seen.length }, (_, i) => seen.length + i));
      assert.equal(error.signatures.length, seen.length, 'a signature for every document reported signed');
      assert.equal(world.gate.done('C_Sign') - doneBefore, seen.length, 'the token made exactly the signatures reported');
      const pub = path.join(world.kit, 'pki/01.pub.pem');
      for (const [i, s] of error.signatures.entries()) {
        const sig = path.join(world.dir, `closed-${i}.sig`);
        const digest = path.join(world.dir, `closed-${i}.digest`);
        fs.writeFileSync(sig, Buffer.from(s.signature, 'base64'));
        fs.writeFileSync(digest, digests[i]);
        const r = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-pkeyopt', 'digest:sha256',
          '-in', digest, '-sigfile', sig], { encoding: 'utf8' });
        assert.equal(r.status, 0, `signature ${i} verifies: ${r.stdout}${r.stderr}`);
      }
    });
  });
}

for (const kind of driver.browsers()) {
  describe(`${kind}: PIN session`, () => {
    let world;
    let browser;
    let page;
    fixture(kind, 'pinsession', { settings: { pinSessionMinutes: 5 } }, (f) => ({ world, browser, page } = f));

    /** One signature; `during(consent)` runs once the window shows. Resolves to what the window asked. */
    async function sign(during = async () => {}) {
      const consentP = browser.expectConsent();
      const pending = inPage(page, (paraphe, a) => paraphe.signHash({ hash: a.hash, certificate: a.certificate }),
        { hash: randomBytes(32).toString('hex'), certificate: world.fingerprint('01') });
      const consent = await consentP;
      const asked = { pin: await consent.visible('#pin'), kept: await consent.visible('#kept') };
      await during(consent, asked);
      const r = await pending;
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      return asked;
    }
    const confirmAsAsked = (consent, asked) => consent.confirm(world.fingerprint('01'), asked.pin ? lib.PIN : undefined);

    test('the next consent asks no PIN; « Oublier le code PIN » ends the session', T, async () => {
      assert.deepEqual(await sign(confirmAsAsked), { pin: true, kept: false }, 'first consent: PIN');
      assert.deepEqual(await sign(confirmAsAsked), { pin: false, kept: true }, 'within the session: no PIN');
      // The person clicks « Oublier le code PIN » (popup) while a window shows the kept login:
      // confirming without a PIN now brings the PIN field back, and the PIN typed works.
      assert.deepEqual(await sign(async (consent) => {
        const ended = await consent.evaluate(() => (globalThis.browser ?? globalThis.chrome).runtime.sendMessage({ kind: 'logout-all' }));
        assert.deepEqual(ended, { result: { ended: 1 } });
        await consent.waitArmed();
        await consent.click('#confirm');
        await consent.waitFor('#pin-row:not([hidden])');
        assert.match(await consent.text('#message'), /PIN/);
        await consent.confirm(world.fingerprint('01'), lib.PIN);
      }), { pin: false, kept: true });
      // That PIN started a new session.
      assert.deepEqual(await sign(confirmAsAsked), { pin: false, kept: true });
    });

    test('a kept login serves only its purpose: CAdES after raw signatures asks the PIN', T, async () => {
      /** One CAdES signature with 01; resolves to what the window asked. */
      async function cades() {
        const consentP = browser.expectConsent();
        const pending = inPage(page, (paraphe, a) => paraphe.signHash({ hash: a.hash, certificate: a.certificate, format: 'cades' }),
          { hash: randomBytes(32).toString('hex'), certificate: world.fingerprint('01') });
        const consent = await consentP;
        const asked = { pin: await consent.visible('#pin'), kept: await consent.visible('#kept') };
        await confirmAsAsked(consent, asked);
        const r = await pending;
        assert.equal(r.error, undefined, JSON.stringify(r.error));
        return asked;
      }
      await sign(confirmAsAsked); // a kept `sign-raw` login
      assert.deepEqual(await sign(confirmAsAsked), { pin: false, kept: true }, 'raw: the kept login');
      assert.deepEqual(await cades(), { pin: true, kept: false }, 'CAdES (sign-structured): its own login, PIN asked');
      assert.deepEqual(await cades(), { pin: false, kept: true }, 'CAdES: now kept too');
      assert.deepEqual(await sign(confirmAsAsked), { pin: false, kept: true }, 'raw: still its own kept login');
    });
  });
}
