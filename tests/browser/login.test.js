// Logging in with the card, end to end in headless Chromium and Firefox ESR (one browser
// launch each, shared by both parts):
//  - the demo portal: card login (nonce from the server, token checked by paraphe-verifier
//    in the portal), a token made for another origin refused by the portal, the
//    délibération signed by markup only, the parapheur batch under one PIN. Real portal
//    binary, real host, SoftHSM token; the portal is reached over https (portal.js).
//  - a page written for Web eID, speaking web-eid.js 2.x's messages exactly as the library
//    does (pages/webeid-client.js): status, authenticate, get-signing-certificate, sign, and
//    the failures a site sees, with tokens and signatures checked by openssl.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';
import * as portal from './portal.js';

const T = { timeout: 90_000 };

for (const kind of driver.browsers()) {
  describe(kind, () => {
    let world;
    let site;
    let other;
    let browser;

    before(async () => {
      lib.checkPrerequisites();
      portal.checkPortal();
      world = lib.makeWorld(`login-${kind}`);
      site = await portal.startHttpsPortal(world);
      other = await lib.startServer(world.dir); // origin B, a look-alike page elsewhere
      browser = await driver.launch(kind, world);
    });

    after(async () => {
      await browser?.close();
      await site?.close();
      await other?.close();
      if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
      else world?.cleanup();
    });

    describe('demo portal', () => {
      test('logs in with the card: log-in consent, auth certificate only, the portal accepts', T, async () => {
        const page = await browser.newPage(`${site.origin}/login`);
        await page.waitFor('#login');
        const consentP = browser.expectConsent();
        await page.click('#login');
        const consent = await consentP;
        assert.equal(await consent.origin(), site.origin);
        assert.match(await consent.text('h1'), /log in|connexion/i);
        assert.deepEqual(await consent.choices(), [world.fingerprint('02')], 'only the authentication certificate');
        await consent.confirm(world.fingerprint('02'), lib.PIN);
        await page.waitForFunction(() => document.body.dataset.loggedIn || document.body.dataset.loginError);
        assert.equal(await page.evaluate(() => document.body.dataset.loginError), undefined,
          await page.text('#status'));
        assert.equal(await page.evaluate(() => document.body.dataset.loggedIn), 'Camille Martin');

        // Signed in: the délibération, markup only; the portal verifies the signature.
        await page.goto(`${site.origin}/deliberation`);
        await page.waitFor('#sign-form .paraphe-sign-button');
        const signConsentP = browser.expectConsent();
        await page.click('#sign-form .paraphe-sign-button');
        const signConsent = await signConsentP;
        assert.match(await signConsent.text('#items'), /Délibération n° 2026-118/);
        await signConsent.confirm(world.fingerprint('01'), lib.PIN);
        await page.waitForFunction(() => document.getElementById('signature').value.length > 0);
        await page.click('#send');
        await page.waitFor('#result');
        assert.equal(await page.evaluate(() => document.getElementById('result').dataset.ok), 'true',
          await page.text('#result'));
        assert.match(await page.text('#result'), /Camille Martin/);

        // The parapheur: twelve documents, one consent, one PIN, each verified by the portal.
        await page.goto(`${site.origin}/parapheur`);
        await page.waitFor('#sign-all');
        const batchP = browser.expectConsent();
        await page.click('#sign-all');
        const batch = await batchP;
        assert.match(await batch.text('#what-heading'), /12/);
        await batch.confirm(world.fingerprint('01'), lib.PIN);
        await page.waitForFunction(() => document.body.dataset.signedCount || document.body.dataset.signError);
        assert.equal(await page.evaluate(() => document.body.dataset.signedCount), '12', await page.text('#status'));
        await page.close();
      });

      test('a token made on another origin is refused by the portal', T, async () => {
        // The portal's nonce, fetched by a look-alike site and given to the card there.
        const nonce = await portal.challenge(site.url);
        const page = await browser.newPage(`${other.origin}/sign.html`);
        await page.waitForFunction(() => window.parapheLoaded);
        const consentP = browser.expectConsent();
        const answer = page.evaluate((n) => window.paraphe.authenticate({ challengeNonce: n })
          .then((token) => ({ token }), (e) => ({ error: { code: e.code, message: e.message } })), nonce);
        const consent = await consentP;
        assert.equal(await consent.origin(), other.origin, 'the person sees the look-alike origin');
        await consent.confirm(world.fingerprint('02'), lib.PIN);
        const { token, error } = await answer;
        assert.equal(error, undefined, JSON.stringify(error));
        assert.ok(portal.opensslVerifiesToken(world, '02', token, other.origin, nonce), 'bound to origin B');
        const replay = await portal.postLogin(site.url, token, nonce);
        assert.equal(replay.status, 401);
        assert.equal(replay.body.ok, false);
        assert.match(replay.body.error, /signature does not verify for this origin/);
        await page.close();
      });
    });

    describe('a page written for Web eID', () => {
      let page;
      let plain;

      /** Calls window.webeid[name](...args) in the page; resolves to {result} or {error}. */
      const call = (name, ...args) => page.evaluate(([n, a]) => window.webeid[n](...a).then(
        (result) => ({ result }),
        (e) => ({ error: { code: e.code, name: e.name, message: e.message, paraphe: e.paraphe } }),
      ), [name, args]);
      const nonce = () => randomBytes(32).toString('base64');
      const der = (id) => execFileSync('openssl', ['x509', '-in', path.join(world.kit, 'pki', `${id}.crt`), '-outform', 'DER'])
        .toString('base64');

      before(async () => {
        plain = await lib.startServer();
        page = await browser.newPage(`${other.origin}/webeid.html`);
        await page.waitForFunction(() => window.webeidLoaded);
      });

      after(async () => {
        await page?.close();
        await plain?.close();
      });

      test('status: Web eID 2 versions, acknowledged within 1 s', T, async () => {
        const { result, error } = await call('status');
        assert.equal(error, undefined, JSON.stringify(error));
        assert.equal(result.library, '2.1.0');
        // Paraphe's own versions only for sites the person allowed (security.test.js).
        assert.equal(result.extension, '2.0.0+paraphe');
        assert.equal(result.nativeApp, '2.0.0+paraphe-host');
        const log = await page.evaluate(() => window.webeidLog);
        const sent = log.find((m) => m.action === 'web-eid:status' && m.sent);
        const ack = log.find((m) => m.action === 'web-eid:status-ack');
        assert.ok(ack && ack.at - sent.at < 1000, JSON.stringify(log));
      });

      test('authenticate: log-in consent, authentication certificate, token verified by openssl', T, async () => {
        const challenge = nonce();
        const consentP = browser.expectConsent();
        const answer = call('authenticate', challenge, { lang: 'fr' });
        const consent = await consentP;
        assert.equal(await consent.origin(), other.origin);
        assert.deepEqual(await consent.choices(), [world.fingerprint('02')]);
        await consent.confirm(world.fingerprint('02'), lib.PIN);
        const { result, error } = await answer;
        assert.equal(error, undefined, JSON.stringify(error));
        assert.deepEqual(Object.keys(result).sort(), ['algorithm', 'appVersion', 'format', 'signature', 'unverifiedCertificate']);
        assert.ok(portal.opensslVerifiesToken(world, '02', result, other.origin, challenge), 'openssl verifies the token');
      });

      test('get-signing-certificate, then sign with it: openssl verifies the signature', T, async () => {
        const pick = browser.expectConsent();
        const certAnswer = call('getSigningCertificate', { userInteractionTimeout: 60_000 });
        const picker = await pick;
        const offered = await picker.choices();
        assert.ok(offered.includes(world.fingerprint('01')) && offered.includes(world.fingerprint('04')), 'signing certificates');
        assert.ok(!offered.includes(world.fingerprint('02')), 'never the authentication certificate');
        assert.equal(await picker.visible('#pin'), false, 'no PIN to share a certificate');
        await picker.confirm(world.fingerprint('01'));
        const { result: cert, error: certError } = await certAnswer;
        assert.equal(certError, undefined, JSON.stringify(certError));
        assert.equal(cert.certificate, der('01'));
        assert.deepEqual(cert.supportedSignatureAlgorithms[0], { cryptoAlgorithm: 'RSA', hashFunction: 'SHA-256', paddingScheme: 'PKCS1.5' });

        const doc = lib.document(world.dir, 'webeid.bin');
        const signP = browser.expectConsent();
        const signAnswer = call('sign', cert.certificate, Buffer.from(doc.hex, 'hex').toString('base64'), 'SHA-256');
        const signer = await signP;
        assert.deepEqual(await signer.choices(), [world.fingerprint('01')], 'the very certificate the site named');
        assert.match(await signer.text('#items'), new RegExp(doc.hex));
        await signer.confirm(world.fingerprint('01'), lib.PIN);
        const { result, error } = await signAnswer;
        assert.equal(error, undefined, JSON.stringify(error));
        assert.deepEqual(result.signatureAlgorithm, { cryptoAlgorithm: 'RSA', hashFunction: 'SHA-256', paddingScheme: 'PKCS1.5' });
        assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signature), 'openssl verifies');
      });

      test('refusals a site sees, with Web eID codes', T, async () => {
        const h = randomBytes(32).toString('base64');
        // No certificate fits: for a site the person has not allowed, a window says so and the
        // answer waits for the person (the site cannot tell it from a certificate present).
        const noneP = browser.expectConsent(30_000, driver.NO_SUITABLE);
        const authP = call('sign', der('02'), h, 'SHA-256');
        await (await noneP).close();
        const auth = await authP;
        assert.equal(auth.error?.code, 'ERR_WEBEID_NATIVE_FATAL', 'an authentication key never signs a hash');
        assert.equal(auth.error?.paraphe, 'NO_CERTIFICATE');
        const badHash = await call('sign', der('01'), h, 'SHA-384');
        assert.equal(badHash.error?.code, 'ERR_WEBEID_NATIVE_INVALID_ARGUMENT');
        const badNonce = await call('authenticate', 'too-short');
        assert.equal(badNonce.error?.code, 'ERR_WEBEID_NATIVE_INVALID_ARGUMENT');
        // http on loopback is a secure context for browsers, but not for Paraphe unless the
        // developer option is on.
        const http = await browser.newPage(`${plain.origin}/webeid.html`);
        await http.waitForFunction(() => window.webeidLoaded);
        const insecure = await http.evaluate(() => window.webeid.status().then(() => ({}), (e) => ({ code: e.code })));
        assert.equal(insecure.code, 'ERR_WEBEID_CONTEXT_INSECURE');
        await http.close();
      });

      test('cancel → USER_CANCELLED; the page\'s user-interaction timeout → USER_TIMEOUT', T, async () => {
        const consentP = browser.expectConsent();
        const cancelled = call('authenticate', nonce());
        await (await consentP).cancel();
        assert.equal((await cancelled).error?.code, 'ERR_WEBEID_USER_CANCELLED');
        // Nobody answers the window, which closes itself when the page's timeout runs out
        // (not awaited: under load it may be gone before the driver sees it).
        const timedOut = await call('authenticate', nonce(), { userInteractionTimeout: 1500 });
        assert.equal(timedOut.error?.code, 'ERR_WEBEID_USER_TIMEOUT', JSON.stringify(timedOut));
      });
    });
  });
}
