// « Vérifier une signature » (extension/src/verify/), in each browser asked for (run.sh), on
// signatures made elsewhere by tests/verify/make-samples.sh: `openssl cms -sign` .p7s files,
// pyHanko-signed PDFs (one signature, two) and `xmlsec1 --sign` XAdES jetons (exclusive C14N
// with RSA, inclusive C14N with ECDSA), with a throwaway PKI whose root the person
// adds on the page. Tampered copies must be reported as such. The files are set on the
// page's file inputs through the driver, as a person choosing them would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import { launchFirefox } from './marionette.js';
import * as lib from './lib.js';

const T = { timeout: 120_000 };
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07'; // driver.js
const SAMPLES = path.join(lib.ROOT, 'tests/.work/verify-samples');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The page in Chromium (playwright, driver.js); file inputs set with setInputFiles. */
async function chromiumSession(dir) {
  const browser = await driver.launch('chromium', { dir, env: process.env }, { withHost: false });
  const page = await browser.newPage();
  const url = `chrome-extension://${lib.CHROMIUM_ID}/verify/verify.html`;
  return {
    async open() {
      await page.goto(url);
      await page.waitFor('#signed');
    },
    setFiles: (selector, files) => page.raw.setInputFiles(selector, files),
    click: (selector) => page.click(selector),
    /** Runs `script`, a function body, in the page. */
    value: (script) => page.raw.evaluate(script.replace(/^return /, '')),
    close: () => browser.close(),
  };
}

/**
 * The page in Firefox. WebDriver BiDi refuses to navigate to moz-extension:// URLs, so
 * Firefox runs under Marionette (marionette.js, as in tls.test.js): the page is opened from
 * the chrome context, and file inputs are set with WebDriver:ElementSendKeys, Marionette's
 * way of choosing a file.
 */
async function firefoxSession(dir) {
  const ff = await launchFirefox({
    executable: lib.firefoxExecutable(dir),
    dir,
    env: { ...process.env, HOME: dir },
    prefs: { 'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: GECKO_UUID }) },
    capabilities: { pageLoadStrategy: 'none' },
  });
  const m = ff.marionette;
  const id = await m.send('Addon:Install', { path: lib.EXT.firefox, temporary: true });
  assert.equal(id, lib.GECKO_ID);
  const url = `moz-extension://${GECKO_UUID}/verify/verify.html`;
  const value = (script) => m.execute('content', script);
  const find = async (selector) => {
    await m.send('Marionette:SetContext', { value: 'content' });
    return Object.values(await m.send('WebDriver:FindElement', { using: 'css selector', value: selector }))[0];
  };
  return {
    async open() {
      // The page being left is marked, so that it is never taken for the new one.
      await value('document.documentElement.dataset.left = "1"; return true').catch(() => {});
      await m.execute('chrome', 'openTrustedLinkIn(arguments[0], "current")', [url]);
      // A hang guard only: the loop ends when the page's form is there.
      for (const deadline = Date.now() + 60_000; ; await sleep(150)) {
        const ready = await value(`return location.href === ${JSON.stringify(url)}
          && !document.documentElement.dataset.left && document.readyState === 'complete'
          && !!document.getElementById('signed')`).catch(() => false);
        if (ready) return;
        if (Date.now() > deadline) throw new Error('the verify page did not open');
      }
    },
    async setFiles(selector, files) {
      const ref = await find(selector);
      for (const f of files) await m.send('WebDriver:ElementSendKeys', { id: ref, text: f });
    },
    async click(selector) {
      await m.send('WebDriver:ElementClick', { id: await find(selector) });
    },
    value,
    close: () => ff.quit(),
  };
}

test('the verify page imports its own WASM module (pkg/paraphe_verify), never the core nor the signing module', () => {
  // The module graph of verify.js as built (dist/: pkg/ beside the pages), from its static
  // imports. Resource timing does not list extension URLs, so this is read from the files.
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^import\b[^'"]*['"](\.[^'"]+)['"]/gm)) {
      walk(path.resolve(path.dirname(file), m[1]));
    }
  };
  const root = lib.EXT.chromium;
  walk(path.join(root, 'verify/verify.js'));
  const files = [...seen].map((f) => path.relative(root, f));
  assert.ok(files.includes('pkg/paraphe_verify.js'), files.join(' '));
  assert.ok(!files.some((f) => f.startsWith('pkg/paraphe_wasm') || f.startsWith('pkg/paraphe_signing')), files.join(' '));
  // And the core has no verification exports left.
  const core = fs.readFileSync(path.join(root, 'pkg/paraphe_wasm.js'), 'utf8');
  assert.doesNotMatch(core, /verify_(pdf|cades|xades)/);
});

for (const kind of driver.browsers()) {
  describe(`verify page (${kind})`, () => {
    let dir;
    let session;

    before(async () => {
      execFileSync(path.join(lib.ROOT, 'tests/verify/make-samples.sh'), [SAMPLES], { stdio: ['ignore', 'ignore', 'inherit'] });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `paraphe-verify-${kind}-`));
      // No host and no token: the page needs neither.
      session = kind === 'chromium' ? await chromiumSession(dir) : await firefoxSession(dir);
    });

    after(async () => {
      await session?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Chooses the files, clicks « Vérifier »; returns the report and what the page shows, or {error}. */
    async function check({ signed, content = null, cas = [] }) {
      await session.open(); // a fresh form each time
      await session.setFiles('#signed', [path.join(SAMPLES, signed)]);
      if (content) await session.setFiles('#content', [path.join(SAMPLES, content)]);
      if (cas.length) await session.setFiles('#cas', cas.map((c) => path.join(SAMPLES, c)));
      await session.click('#verify');
      // A hang guard only: the loop ends when the page shows its report or an error.
      for (const deadline = Date.now() + 90_000; ; await sleep(100)) {
        if (await session.value('return document.body.dataset.report || document.body.dataset.error || null')) break;
        if (Date.now() > deadline) throw new Error('no report');
      }
      const error = await session.value('return document.body.dataset.error || null');
      if (error) return { error };
      const report = JSON.parse(await session.value('return document.body.dataset.report'));
      const shown = await session.value(`return [...document.querySelectorAll('.signature')]
        .map((e) => ({ ...e.dataset, text: e.textContent }))`);
      return { report, shown };
    }

    test('openssl .p7s + file, root added: valid, signer, RGS **, qualified, ChamberSign', T, async () => {
      const { report, shown, error } = await check({ signed: 'acte.txt.p7s', content: 'acte.txt', cas: ['root.pem'] });
      assert.equal(error, undefined);
      assert.equal(report.signatures.length, 1);
      assert.equal(shown[0].status, 'valid');
      assert.equal(shown[0].rgs, '**');
      assert.equal(shown[0].qualified, 'true');
      assert.match(shown[0].text, /Camille Martin/);
      assert.match(shown[0].text, /ChamberSign France/);
      assert.match(shown[0].text, /RGS \*\*/);
      assert.match(shown[0].text, /EIDAS/);
    });

    test('the same .p7s over a modified file: reported as modified', T, async () => {
      const { shown } = await check({ signed: 'acte.txt.p7s', content: 'acte-modifie.txt', cas: ['root.pem'] });
      assert.equal(shown[0].status, 'invalid');
      assert.equal(shown[0].intact, 'false');
      assert.match(shown[0].problems, /digest-mismatch/);
    });

    test('no CA added: intact but not validated up to a trusted authority', T, async () => {
      const { shown } = await check({ signed: 'acte.bin.p7s.pem', content: 'acte.bin' });
      assert.equal(shown[0].status, 'indeterminate');
      assert.equal(shown[0].intact, 'true');
      assert.match(shown[0].problems, /chain-untrusted/);
    });

    test('pyHanko PDF signed twice: both signatures listed and valid', T, async () => {
      const { report, shown } = await check({ signed: 'signed-twice.pdf', cas: ['root.der'] });
      assert.equal(report.format, 'pades');
      assert.equal(shown.length, 2);
      assert.deepEqual(shown.map((s) => s.status), ['valid', 'valid']);
      assert.equal(report.signatures[0].pdf.coversWholeFile, false);
      assert.equal(report.signatures[1].pdf.coversWholeFile, true);
    });

    test('xmlsec1 jeton (exc-c14n, RSA) + file, root added: valid, signer, RGS **, qualified, signing time', T, async () => {
      const { report, shown, error } = await check({ signed: 'acte.txt.xml', content: 'acte.txt', cas: ['root.pem'] });
      assert.equal(error, undefined);
      assert.equal(report.format, 'xades');
      assert.equal(shown.length, 1);
      assert.equal(shown[0].status, 'valid', shown[0].problems);
      assert.equal(shown[0].rgs, '**');
      assert.equal(shown[0].qualified, 'true');
      assert.match(shown[0].text, /Camille Martin/);
      assert.match(shown[0].text, /ChamberSign France/);
      const time = fs.readFileSync(path.join(SAMPLES, 'jeton-time.txt'), 'utf8').trim();
      assert.equal(report.signatures[0].signingTime, time);
    });

    test('jetons tampered with: the file, the signed properties, the SignedInfo; each reported as such', T, async () => {
      const file = await check({ signed: 'acte.txt.xml', content: 'acte-modifie.txt', cas: ['root.pem'] });
      assert.equal(file.shown[0].status, 'invalid');
      assert.match(file.shown[0].problems, /digest-mismatch/);
      assert.match(file.shown[0].text, /contenu signé a été modifié|signed content was modified/);
      const properties = await check({ signed: 'acte.txt.sp-modifie.xml', content: 'acte.txt', cas: ['root.pem'] });
      assert.equal(properties.shown[0].status, 'invalid');
      assert.match(properties.shown[0].problems, /signed-properties-modified/);
      assert.doesNotMatch(properties.shown[0].problems, /digest-mismatch/);
      const signedInfo = await check({ signed: 'acte.txt.si-modifie.xml', content: 'acte.txt', cas: ['root.pem'] });
      assert.equal(signedInfo.shown[0].status, 'invalid');
      assert.match(signedInfo.shown[0].problems, /signature-invalid/);
    });

    test('xmlsec1 jeton (c14n 1.0, ECDSA), no CA added: intact but not validated; without its file: asked for', T, async () => {
      const { report, shown } = await check({ signed: 'acte.bin.xml', content: 'acte.bin' });
      assert.equal(report.format, 'xades');
      assert.equal(shown[0].status, 'indeterminate');
      assert.equal(shown[0].intact, 'true');
      assert.match(shown[0].problems, /chain-untrusted/);
      const alone = await check({ signed: 'acte.bin.xml' });
      assert.match(alone.error, /fichier signé|signed file/);
    });

    test('tampered PDF: reported as modified; unknown signer: no RGS level, no badge', T, async () => {
      const tampered = await check({ signed: 'signed-tampered.pdf', cas: ['root.der'] });
      assert.equal(tampered.shown[0].status, 'invalid');
      assert.match(tampered.shown[0].problems, /digest-mismatch/);
      const unknown = await check({ signed: 'acte.unknown.p7s', content: 'acte.txt', cas: ['other.pem'] });
      assert.equal(unknown.shown[0].status, 'valid');
      assert.equal(unknown.shown[0].rgs, '');
      assert.doesNotMatch(unknown.shown[0].text, /EIDAS|RGS \*/);
      const unsigned = await check({ signed: 'plain.pdf' });
      assert.match(unsigned.error, /no signature/);
      assert.doesNotMatch(unsigned.error, /INVALID_REQUEST/); // the message of the thrown {code, message}
    });
  });
}
