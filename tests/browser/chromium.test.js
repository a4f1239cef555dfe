// End to end in headless Chromium (playwright-core + Debian's chromium): page → content
// script → service worker + WASM → real paraphe-host → SoftHSM, PIN typed in the consent
// window, signature checked with openssl.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import * as lib from './lib.js';

const T = { timeout: 60_000 };

async function launch(world, { withHost = true } = {}) {
  const userDataDir = path.join(world.dir, `chromium-${Date.now()}`);
  if (withHost) lib.writeHostManifest('chromium', path.join(userDataDir, 'NativeMessagingHosts/fr.paraphe.host.json'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: lib.chromiumExecutable(world.dir),
    headless: true,
    env: world.env,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      `--disable-extensions-except=${lib.EXT.chromium}`, `--load-extension=${lib.EXT.chromium}`,
      // http://portal.test:PORT reaches the local server as a non-loopback http origin.
      '--host-resolver-rules=MAP portal.test 127.0.0.1',
    ],
  });
  let worker = context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`));
  worker ??= await context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`), timeout: 60_000 });
  // The developer option that lets the test server on 127.0.0.1 (plain http) use Paraphe.
  await lib.storeChromium(context, { allowLoopbackHttp: true });
  context.setDefaultTimeout(90_000); // waits are hang guards, long enough for a loaded machine
  return context;
}

/** Starts a request in the page without awaiting it; the consent window needs answering first. */
function inPage(page, call, arg) {
  return page.evaluate(async ([callText, a]) => {
    // eslint-disable-next-line no-new-func
    const fn = new Function('paraphe', 'arg', `return (${callText})(paraphe, arg)`);
    try {
      return { result: await fn(window.paraphe, a) };
    } catch (e) {
      return { error: { code: e.code, message: e.message, pin: e.pin } };
    }
  }, [call.toString(), arg]);
}

async function openPortal(context, server, host = '127.0.0.1', file = 'sign.html', query = '') {
  const page = await context.newPage();
  await page.goto(`http://${host}:${server.port}/${file}${query}`);
  if (file === 'sign.html') await page.waitForFunction(() => window.parapheLoaded);
  return page;
}

const consentWindow = (context) => context.waitForEvent('page', {
  predicate: (p) => p.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/consent/`),
  timeout: 90_000,
});

async function confirm(consent, fingerprint, pin) {
  await consent.waitForSelector('#main:not([hidden])');
  await consent.check(`input[name=certificate][value="${fingerprint}"]`);
  await consent.fill('#pin', pin);
  await consent.click('#confirm');
}

describe('Chromium', () => {
  let world;
  let server;
  let context;

  before(async () => {
    lib.checkPrerequisites();
    world = lib.makeWorld('chromium');
    server = await lib.startServer();
    context = await launch(world);
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  test('signs a SHA-256 digest; the signature verifies with openssl', T, async () => {
    const doc = lib.document(world.dir);
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p, hash) => p.signHash({ hash, hashAlgorithm: 'sha256', name: 'contrat.pdf' }), doc.hex);
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.equal(await consent.textContent('#origin'), `http://127.0.0.1:${server.port}`);
    assert.match(await consent.textContent('#items'), /contrat\.pdf/);
    assert.match(await consent.textContent('#items'), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(result.signatures.length, 1);
    assert.equal(result.signatures[0].scheme, 'rsa-pkcs1');
    assert.equal(result.certificate.fingerprint, world.fingerprint('01'));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature), 'openssl verifies');
    await page.close();
  });

  test('two digests, one consent, EC key with always-authenticate (ECDSA, DER)', T, async () => {
    const a = lib.document(world.dir, 'a.xml');
    const b = lib.document(world.dir, 'b.xml');
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p, [ha, hb]) => p.signHash({
      hashes: [{ digest: ha, hashAlgorithm: 'sha256', name: 'a.xml' }, { digest: hb, hashAlgorithm: 'sha256', name: 'b.xml' }],
      ecdsaEncoding: 'der',
    }), [a.hex, b.hex]);
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.match(await consent.textContent('#what-heading'), /2/);
    await confirm(consent, world.fingerprint('04'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.deepEqual(result.signatures.map((s) => s.scheme), ['ecdsa', 'ecdsa']);
    assert.ok(lib.opensslVerifies(world, '04', a.file, result.signatures[0].signature), 'first verifies');
    assert.ok(lib.opensslVerifies(world, '04', b.file, result.signatures[1].signature), 'second verifies');
    await page.close();
  });

  test('cancel in the consent window → USER_CANCELLED', T, async () => {
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    // The window closes itself on Cancel, possibly while the driver still finishes the click.
    await consent.click('#cancel').catch((e) => { if (!/closed/i.test(e.message)) throw e; });
    const cancelled = await answer;
    assert.equal(cancelled.error?.code, 'USER_CANCELLED', JSON.stringify(cancelled));
    await page.close();
  });

  test('closing the consent window → USER_CANCELLED', T, async () => {
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p) => p.signHash({ hash: 'cd'.repeat(32), hashAlgorithm: 'sha256' }));
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    await consent.close();
    const cancelled = await answer;
    assert.equal(cancelled.error?.code, 'USER_CANCELLED', JSON.stringify(cancelled));
    await page.close();
  });

  test('wrong PIN is reported in the window, then the right PIN signs', T, async () => {
    const doc = lib.document(world.dir, 'second.bin');
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p, hash) => p.signHash({ hash, hashAlgorithm: 'sha256' }), doc.hex);
    const consent = await consentP;
    await confirm(consent, world.fingerprint('01'), '0000');
    await consent.waitForSelector('#message:not([hidden])');
    assert.match(await consent.textContent('#message'), /PIN/);
    await consent.fill('#pin', lib.PIN);
    await consent.click('#confirm');
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature));
    await page.close();
  });

  test('data-paraphe-* markup, no page script: button, signature written back', T, async () => {
    const doc = lib.document(world.dir, 'markup.bin');
    const page = await openPortal(context, server, '127.0.0.1', 'markup.html', `?hash=${doc.hex}`);
    const button = page.locator('#form .paraphe-sign-button');
    await button.waitFor();
    assert.match(await button.textContent(), /Sign|Signer/);
    const signed = page.evaluate(() => new Promise((resolve) => {
      document.getElementById('form').addEventListener('paraphe:signed', (e) => resolve(e.detail?.signature ?? 'no-detail'), { once: true });
    }));
    const consentP = consentWindow(context);
    await button.click();
    await confirm(await consentP, world.fingerprint('01'), lib.PIN);
    const fromEvent = await signed;
    const signature = await page.inputValue('#signature');
    assert.ok(signature.length > 0);
    assert.equal(fromEvent, signature);
    assert.ok((await page.inputValue('#certificate')).length > 0);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, signature));
    await page.close();
  });

  test('data-paraphe-file: the extension hashes the chosen file in chunks', T, async () => {
    // 1.5 MiB: several 512 KiB chunks through the WASM hasher.
    const doc = lib.document(world.dir, 'big.pdf', 1536 * 1024 + 17);
    const page = await openPortal(context, server, '127.0.0.1', 'markup.html');
    await page.setInputFiles('#file', doc.file);
    const consentP = consentWindow(context);
    await page.click('#file-form .paraphe-sign-button');
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.match(await consent.textContent('#items'), /big\.pdf/);
    assert.match(await consent.textContent('#items'), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    await page.waitForFunction(() => document.getElementById('file-signature').value.length > 0);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, await page.inputValue('#file-signature')));
    await page.close();
  });

  test('client library signDocument(Blob): hashed by the extension', T, async () => {
    const doc = lib.document(world.dir, 'blob.bin', 700 * 1024);
    const page = await openPortal(context, server);
    const consentP = consentWindow(context);
    const answer = inPage(page, (p, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return p.signDocument(new Blob([bytes]), { name: 'blob.bin' });
    }, doc.data.toString('base64'));
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.match(await consent.textContent('#items'), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature));
    await page.close();
  });

  test('the extension frame cannot start: documents are hashed through the background instead', { timeout: 180_000 }, async () => {
    // content/content.js waits FRAME_START_MS (20 s) for the frame's port, then streams the
    // file to the background in chunks. Here the frame is held by the debugger before its
    // first script runs (DevTools auto-attach, waiting for the debugger, never released), so
    // it never starts: the request must still sign the right digest, the slow way.
    const doc = lib.document(world.dir, 'no-frame.bin', 1536 * 1024 + 5);
    const page = await openPortal(context, server);
    const cdp = await context.newCDPSession(page);
    const held = new Promise((resolve) => {
      // The extension frame is this page's only out-of-process frame (attached before its URL is set).
      cdp.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'iframe') resolve(e.waitingForDebugger); });
    });
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true });
    const consentP = consentWindow(context);
    const answer = inPage(page, (p, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return p.signDocument(new Blob([bytes]), { name: 'no-frame.bin' });
    }, doc.data.toString('base64'));
    assert.equal(await held, true, 'the extension frame should be held by the debugger');
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.match(await consent.textContent('#items'), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature));
    await cdp.detach();
    await page.close();
  });

  test('http page on a non-loopback origin → ORIGIN_NOT_ALLOWED', T, async () => {
    const page = await openPortal(context, server, 'portal.test');
    const { error } = await inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
    assert.equal(error?.code, 'ORIGIN_NOT_ALLOWED');
    await page.close();
  });

  test('requests with files are checked before any file is read → INVALID_REQUEST (wasm/src/request.rs)', T, async () => {
    const page = await openPortal(context, server);
    const cases = [
      [(p) => p.signDocuments([]), 'documents must hold 1 to 500 files'],
      [(p) => p.signDocuments([{ file: 'a.pdf' }]), 'each file must be a File or Blob'],
      [(p) => p.decrypt('a.p7m'), 'file must be a File or Blob'],
      [(p) => p.decrypt(new Blob(['x']), { name: 'x'.repeat(201) }), 'name must be a string of at most 200 characters'],
    ];
    for (const [call, message] of cases) {
      const { error } = await inPage(page, call);
      assert.deepEqual([error?.code, error?.message], ['INVALID_REQUEST', message], call.toString());
    }
    await page.close();
  });

  test('invalid request → INVALID_REQUEST, before any window', T, async () => {
    const page = await openPortal(context, server);
    const { error } = await inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(20), hashAlgorithm: 'sha256' }));
    assert.equal(error?.code, 'INVALID_REQUEST');
    await page.close();
  });

  test('status and listCertificates: holders\' names only for a site the person allowed', T, async () => {
    const page = await openPortal(context, server);
    const { result: before } = await inPage(page, (p) => p.status());
    assert.equal(before.host.available, true);
    assert.equal(before.host.version, undefined, 'no host version before the grant');
    assert.equal(before.tokens, null, 'nothing about tokens before the grant');

    // The person refuses: USER_CANCELLED, nothing remembered.
    let consentP = consentWindow(context);
    let pending = inPage(page, (p) => p.listCertificates());
    let consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.equal(await consent.textContent('#origin'), server.origin);
    assert.equal(await consent.isVisible('#pin'), false, 'no PIN to show certificates');
    await consent.click('#cancel').catch((e) => { if (!/closed/i.test(e.message)) throw e; });
    assert.equal((await pending).error?.code, 'USER_CANCELLED');

    // Then allows: the list comes, and the site is remembered.
    consentP = consentWindow(context);
    pending = inPage(page, (p) => p.listCertificates());
    consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    assert.ok(await consent.locator('.certificate').count() >= 1, 'the certificates are shown');
    await consent.click('#confirm').catch((e) => { if (!/closed/i.test(e.message)) throw e; });
    const { result: certs } = await pending;
    const fps = certs.map((c) => c.fingerprint);
    assert.ok(fps.includes(world.fingerprint('01')), 'RSA signing certificate listed');
    assert.ok(!fps.includes(world.fingerprint('03')), 'encryption certificate not offered for signing');

    const again = await inPage(page, (p) => p.listCertificates());
    assert.equal(again.result?.length, certs.length, 'no window the second time');
    const { result: status } = await inPage(page, (p) => p.status());
    assert.ok(status.tokens.some((t) => t.label === 'Paraphe Demo'));
    assert.match(status.host.version, /\d+\.\d+/);

    // The options page lists the site and takes it off.
    const options = await context.newPage();
    await options.goto(`chrome-extension://${lib.CHROMIUM_ID}/options/options.html`);
    await options.click('.certificate-site-remove');
    await options.waitForFunction(() => !document.querySelector('.certificate-site-remove'));
    await options.close();
    const { result: after } = await inPage(page, (p) => p.status());
    assert.equal(after.tokens, null, 'hidden again');
    await page.close();
  });

  test('toolbar popup: host, token, certificates', T, async () => {
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${lib.CHROMIUM_ID}/popup/popup.html`);
    await popup.waitForSelector('#tokens li');
    assert.match(await popup.textContent('#tokens'), /Paraphe Demo/);
    assert.ok(await popup.locator('#certificates tr').count() >= 2);
    assert.equal(await popup.isVisible('#fix'), false);
    await popup.close();
  });

  test('host not installed → HOST_UNAVAILABLE, and the popup says how to fix it', T, async () => {
    const bare = await launch(world, { withHost: false });
    try {
      const popup = await bare.newPage();
      await popup.goto(`chrome-extension://${lib.CHROMIUM_ID}/popup/popup.html`);
      await popup.waitForSelector('#fix:not([hidden])');
      const page = await openPortal(bare, server);
      const { error } = await inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
      assert.equal(error?.code, 'HOST_UNAVAILABLE');
      const { result } = await inPage(page, (p) => p.status());
      assert.equal(result.host.available, false);
    } finally {
      await bare.close();
    }
  });
});
