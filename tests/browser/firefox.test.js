// End to end in headless Firefox ESR (puppeteer-core over WebDriver BiDi): the same flow as
// chromium.test.js, with the extension as a temporary add-on (module event page). The
// portal is served over https (self-signed, acceptInsecureCerts), which is the production
// rule; plain http on loopback is refused because the developer option stays off here.
//
// WebDriver BiDi reports extension windows with the URL about:blank, so the consent window
// is found by asking each new page for its location.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import * as lib from './lib.js';

const T = { timeout: 90_000 };
// Fixed moz-extension:// UUID, so the test knows the consent page's URL.
const UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';

async function launch(world, { withHost = true } = {}) {
  const home = path.join(world.dir, `home-${Date.now()}`);
  fs.mkdirSync(home, { recursive: true });
  if (withHost) lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: lib.firefoxExecutable(world.dir),
    headless: true,
    acceptInsecureCerts: true,
    env: { ...world.env, HOME: home },
    extraPrefsFirefox: { 'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: UUID }) },
  });
  const id = await browser.installExtension(lib.EXT.firefox);
  assert.equal(id, lib.GECKO_ID);
  return browser;
}

async function inPage(page, call, arg) {
  // A key press (Shift): consent windows open only for a page the person is using, and
  // Firefox stops giving BiDi evaluations a user activation once an extension window opened.
  await page.keyboard.press('Shift');
  return page.evaluate(async (callText, a) => {
    // eslint-disable-next-line no-new-func
    const fn = new Function('paraphe', 'arg', `return (${callText})(paraphe, arg)`);
    try {
      return { result: await fn(window.paraphe, a) };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    }
  }, call.toString(), arg);
}

async function openPortal(browser, origin, file = 'sign.html', query = '') {
  const page = await browser.newPage();
  await page.goto(`${origin}/${file}${query}`);
  if (file === 'sign.html') await page.waitForFunction(() => window.parapheLoaded);
  return page;
}

async function consentWindow(browser, known) {
  const deadline = Date.now() + 90_000; // a hang guard: the loop ends when the window shows
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
}

async function confirm(consent, fingerprint, pin) {
  await consent.click(`input[name=certificate][value="${fingerprint}"]`);
  await consent.$eval('#pin', (el) => { el.value = ''; });
  await consent.type('#pin', pin);
  await consent.click('#confirm');
}

describe('Firefox', () => {
  let world;
  let server;
  let plain;
  let browser;

  before(async () => {
    lib.checkPrerequisites();
    world = lib.makeWorld('firefox');
    server = await lib.startServer(world.dir);
    plain = await lib.startServer();
    browser = await launch(world);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await plain?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  const known = async () => new Set(await browser.pages());

  test('signs a SHA-256 digest over https; the signature verifies with openssl', T, async () => {
    const doc = lib.document(world.dir);
    const page = await openPortal(browser, server.origin);
    const before_ = await known();
    const answer = inPage(page, (p, hash) => p.signHash({ hash, hashAlgorithm: 'sha256', name: 'contrat.pdf' }), doc.hex);
    const consent = await consentWindow(browser, before_);
    assert.equal(await consent.$eval('#origin', (e) => e.textContent), server.origin);
    assert.match(await consent.$eval('#items', (e) => e.textContent), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature), 'openssl verifies');
    await page.close();
  });

  test('cancel → USER_CANCELLED', T, async () => {
    const page = await openPortal(browser, server.origin);
    const before_ = await known();
    const answer = inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
    const consent = await consentWindow(browser, before_);
    // The window closes itself on Cancel, possibly while the driver still finishes the click.
    await consent.click('#cancel').catch((e) => { if (!/closed/i.test(e.message)) throw e; });
    const cancelled = await answer;
    assert.equal(cancelled.error?.code, 'USER_CANCELLED', JSON.stringify(cancelled));
    await page.close();
  });

  test('wrong PIN, then the right PIN', T, async () => {
    const doc = lib.document(world.dir, 'second.bin');
    const page = await openPortal(browser, server.origin);
    const before_ = await known();
    const answer = inPage(page, (p, hash) => p.signHash({ hash, hashAlgorithm: 'sha256' }), doc.hex);
    const consent = await consentWindow(browser, before_);
    await confirm(consent, world.fingerprint('01'), '0000');
    await consent.waitForSelector('#message:not([hidden])');
    await consent.waitForSelector('#pin:not([disabled])');
    await consent.type('#pin', lib.PIN);
    await consent.click('#confirm');
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature));
    await page.close();
  });

  test('data-paraphe-* markup, no page script', T, async () => {
    const doc = lib.document(world.dir, 'markup.bin');
    const page = await openPortal(browser, server.origin, 'markup.html', `?hash=${doc.hex}`);
    await page.waitForSelector('#form .paraphe-sign-button');
    const before_ = await known();
    await page.click('#form .paraphe-sign-button');
    await confirm(await consentWindow(browser, before_), world.fingerprint('01'), lib.PIN);
    await page.waitForFunction(() => document.getElementById('signature').value.length > 0);
    const signature = await page.$eval('#signature', (e) => e.value);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, signature));
    await page.close();
  });

  test('data-paraphe-file: the extension hashes the chosen file in chunks', T, async () => {
    const doc = lib.document(world.dir, 'big.pdf', 1536 * 1024 + 17);
    const page = await openPortal(browser, server.origin, 'markup.html');
    const input = await page.waitForSelector('#file');
    await input.uploadFile(doc.file);
    const before_ = await known();
    await page.click('#file-form .paraphe-sign-button');
    const consent = await consentWindow(browser, before_);
    assert.match(await consent.$eval('#items', (e) => e.textContent), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    await page.waitForFunction(() => document.getElementById('file-signature').value.length > 0);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, await page.$eval('#file-signature', (e) => e.value)));
    await page.close();
  });

  test('closing the consent window → USER_CANCELLED', T, async () => {
    const page = await openPortal(browser, server.origin);
    const before_ = await known();
    const answer = inPage(page, (p) => p.signHash({ hash: 'cd'.repeat(32), hashAlgorithm: 'sha256' }));
    const consent = await consentWindow(browser, before_);
    await consent.close();
    const cancelled = await answer;
    assert.equal(cancelled.error?.code, 'USER_CANCELLED', JSON.stringify(cancelled));
    await page.close();
  });

  test('client library signDocument(Blob): hashed by the extension', T, async () => {
    const doc = lib.document(world.dir, 'blob.bin', 700 * 1024);
    const page = await openPortal(browser, server.origin);
    const before_ = await known();
    const answer = inPage(page, (p, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return p.signDocument(new Blob([bytes]), { name: 'blob.bin' });
    }, doc.data.toString('base64'));
    const consent = await consentWindow(browser, before_);
    assert.match(await consent.$eval('#items', (e) => e.textContent), new RegExp(doc.hex));
    await confirm(consent, world.fingerprint('01'), lib.PIN);
    const { result, error } = await answer;
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature));
    await page.close();
  });

  test('http page (loopback, developer option off) → ORIGIN_NOT_ALLOWED', T, async () => {
    const page = await openPortal(browser, plain.origin);
    const { error } = await inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
    assert.equal(error?.code, 'ORIGIN_NOT_ALLOWED');
    await page.close();
  });

  test('requests with files are checked before any file is read → INVALID_REQUEST (wasm/src/request.rs)', T, async () => {
    const page = await openPortal(browser, server.origin);
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

  test('host not installed → HOST_UNAVAILABLE', T, async () => {
    const bare = await launch(world, { withHost: false });
    try {
      const page = await openPortal(bare, server.origin);
      const { error } = await inPage(page, (p) => p.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' }));
      assert.equal(error?.code, 'HOST_UNAVAILABLE');
    } finally {
      await bare.close();
    }
  });
});
