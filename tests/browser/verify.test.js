// « Vérifier une signature » (extension/src/verify/), in each browser asked for (run.sh), on
// signatures made elsewhere by tests/verify/make-samples.sh: `openssl cms -sign` .p7s files
// and pyHanko-signed PDFs (one signature, two), with a throwaway PKI whose root the person
// adds on the page. Tampered copies must be reported as such. The files are set on the
// page's file inputs through the driver, as a person choosing them would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 120_000 };
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07'; // driver.js
const SAMPLES = path.join(lib.ROOT, 'tests/.work/verify-samples');

async function setFiles(page, selector, files) {
  if (page.kind === 'chromium') await page.raw.setInputFiles(selector, files);
  else await (await page.raw.$(selector)).uploadFile(...files);
}

for (const kind of driver.browsers()) {
  describe(`verify page (${kind})`, () => {
    let dir;
    let browser;
    let page;

    before(async () => {
      execFileSync(path.join(lib.ROOT, 'tests/verify/make-samples.sh'), [SAMPLES], { stdio: ['ignore', 'ignore', 'inherit'] });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `paraphe-verify-${kind}-`));
      // No host and no token: the page needs neither.
      browser = await driver.launch(kind, { dir, env: process.env }, { withHost: false });
      const url = kind === 'chromium'
        ? `chrome-extension://${lib.CHROMIUM_ID}/verify/verify.html`
        : `moz-extension://${GECKO_UUID}/verify/verify.html`;
      page = await browser.newPage(url);
      await page.waitFor('#signed');
    });

    after(async () => {
      await browser?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Chooses the files, clicks « Vérifier », returns the report (or {error}). */
    async function check({ signed, content = null, cas = [] }) {
      // A fresh form each time: a file input cannot be emptied through every driver.
      await page.raw.reload();
      await page.waitFor('#signed');
      await setFiles(page, '#signed', [path.join(SAMPLES, signed)]);
      if (content) await setFiles(page, '#content', [path.join(SAMPLES, content)]);
      if (cas.length) await setFiles(page, '#cas', cas.map((c) => path.join(SAMPLES, c)));
      await page.click('#verify');
      await page.waitForFunction(() => document.body.dataset.report || document.body.dataset.error);
      const error = await page.evaluate(() => document.body.dataset.error);
      if (error) return { error };
      const report = JSON.parse(await page.evaluate(() => document.body.dataset.report));
      const shown = await page.raw.$$eval('.signature', (els) => els.map((e) => ({ ...e.dataset, text: e.textContent })));
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
    });
  });
}
