// Opening plis end to end, in each browser asked for (run.sh): plis made by
// `openssl cms -encrypt` for the demo token's encryption certificate (03) go through the
// page API (`paraphe.decrypt`) and the « Ouvrir un pli » extension page; the WASM core
// parses and decrypts them, the real host has SoftHSM unwrap the key. The plaintext is
// compared with the original byte for byte. Also: OAEP-SHA256 (SoftHSM cannot: a clear
// MECHANISM_NOT_SUPPORTED), a tampered GCM pli (integrity failure, no plaintext), and a
// pli for somebody else (NO_CERTIFICATE before any window).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 120_000 }; // three 1.3 MiB plis, each with its window, on a loaded machine
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07'; // driver.js

/** `openssl cms -encrypt` of `doc` for 03 (or `recipient`); `ber`: -stream (indefinite lengths). */
function makePli(world, doc, { cipher, ber = false, oaep = null, recipient = null, name }) {
  const out = path.join(world.dir, name);
  const args = ['cms', '-encrypt', '-binary', `-${cipher}`, '-outform', 'DER', '-in', doc, '-out', out];
  if (ber) args.push('-stream');
  args.push('-recip', recipient ?? path.join(world.kit, 'pki', '03.crt'));
  if (oaep) args.push('-keyopt', 'rsa_padding_mode:oaep', '-keyopt', `rsa_oaep_md:${oaep}`);
  execFileSync('openssl', args);
  return { file: out, name, bytes: fs.readFileSync(out) };
}

/** Calls paraphe.decrypt on `pli` in the page; resolves to {result: {base64, …}} or {error}. */
function decryptInPage(page, pli) {
  return page.evaluate(async ([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    let progress = 0;
    try {
      const r = await window.paraphe.decrypt(new Blob([bytes]), { name, onProgress: () => { progress += 1; } });
      const plain = new Uint8Array(await r.plaintext.arrayBuffer());
      let s = '';
      for (let i = 0; i < plain.length; i += 0x8000) s += String.fromCharCode.apply(null, plain.subarray(i, i + 0x8000));
      return { result: { base64: btoa(s), name: r.name, size: r.size, isBlob: r.plaintext instanceof Blob,
        fingerprint: r.certificate.fingerprint, contentEncryption: r.contentEncryption, progress } };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    }
  }, [pli.bytes.toString('base64'), pli.name]);
}

/**
 * The page API's plaintext files (background/plaintext-files.js: `page-pli-<ms>-<tab>-<uuid>`)
 * in the extension's OPFS, as the extension page `page` (a driver page or consent window)
 * sees them.
 * @returns {Promise<string[]>}
 */
function pagePlaintexts(page) {
  return page.raw.evaluate(async () => {
    const names = [];
    for await (const name of (await navigator.storage.getDirectory()).keys()) if (name.startsWith('page-pli-')) names.push(name);
    return names;
  });
}

for (const kind of driver.browsers()) {
  describe(`decrypt (${kind})`, () => {
    let world;
    let server;
    let browser;
    let doc;
    let plain;

    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`decrypt-${kind}`);
      server = await lib.startServer(world.dir);
      browser = await driver.launch(kind, world);
      // 1.3 MiB: several 512 KiB chunks, and the 4 KiB BER chunks of openssl -stream.
      plain = randomBytes(1300 * 1024 + 13);
      doc = path.join(world.dir, 'offre.pdf');
      fs.writeFileSync(doc, plain);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
      else world?.cleanup();
    });

    // One portal page for the whole suite: in Firefox, opening a page while a consent
    // window closes itself can fail in WebDriver BiDi ("browsingContext is null").
    let portalPage = null;
    const openPortal = async () => {
      if (!portalPage) {
        portalPage = await browser.newPage(`${server.origin}/sign.html`);
        await portalPage.waitForFunction(() => window.parapheLoaded);
      }
      // The person looks at the portal (a request from a hidden tab waits for it: the
      // Firefox OAEP test opens « Ouvrir un pli » in a tab in front of it).
      await portalPage.bringToFront();
      return { evaluate: (f, a) => portalPage.evaluate(f, a), close: async () => {} };
    };
    /**
     * The consent window closes itself 1.5 s after a pli opened: wait until it has (a known
     * state, not a delay), before going on. The deadline only guards against a hang.
     */
    const isClosed = async (consent) => consent.raw.isClosed()
      // puppeteer over WebDriver BiDi does not mark an extension window that closed itself:
      // its browsing context is gone ("no such frame").
      || consent.raw.evaluate(() => false).catch((e) => /no such frame|not found|closed|detached|target/i.test(e.message));
    const closed = async (consent) => {
      for (const deadline = Date.now() + 30_000; !(await isClosed(consent));) {
        if (Date.now() > deadline) throw new Error('the consent window did not close itself after the pli opened');
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    test('page API: DER and BER, CBC (DER and BER), GCM and 3DES, PKCS#1 and OAEP-SHA1, byte for byte', T, async () => {
      const plis = [
        makePli(world, doc, { cipher: 'aes-256-gcm', ber: true, oaep: 'sha1', name: 'gcm-ber-oaep.p7m' }),
        makePli(world, doc, { cipher: 'aes128', name: 'cbc-der-pkcs1.p7m' }),
        makePli(world, doc, { cipher: 'aes256', ber: true, name: 'cbc-ber-pkcs1.p7m' }),
        makePli(world, doc, { cipher: 'des3', ber: true, name: 'des3-ber-pkcs1.p7m' }),
      ];
      const page = await openPortal();
      for (const pli of plis) {
        const consentP = browser.expectConsent();
        const answer = decryptInPage(page, pli);
        const consent = await driver.consentFor(consentP, answer);
        assert.equal(await consent.origin(), server.origin);
        assert.match(await consent.text('#items'), new RegExp(pli.name.replace('.', '\\.')));
        assert.deepEqual(await consent.choices(), [world.fingerprint('03')], 'only the encryption certificate');
        await consent.confirm(world.fingerprint('03'), lib.PIN);
        const { result, error } = await answer;
        assert.equal(error, undefined, `${pli.name}: ${JSON.stringify(error)}`);
        assert.ok(result.isBlob);
        assert.equal(result.size, plain.length, pli.name);
        assert.ok(Buffer.from(result.base64, 'base64').equals(plain), `${pli.name}: plaintext differs`);
        assert.equal(result.name, pli.name.replace(/\.p7m$/, ''));
        assert.equal(result.fingerprint, world.fingerprint('03'));
        assert.ok(result.progress >= 3, 'progress reported');
        await closed(consent);
      }
      await page.close();
    });

    // Chromium: as here, with third-party cookies blocked (the frame has no storage of its
    // own: it uses the extension's storage document), and allowed, as Chrome and Edge do by
    // default (the frame's own storage, which is the extension's there).
    for (const thirdPartyCookies of kind === 'chromium' ? [false, true] : [false]) {
      const how = kind === 'firefox' ? '' : thirdPartyCookies ? ', third-party cookies allowed' : ', third-party cookies blocked (the storage document)';
      test(`the page API's plaintext is a file of the extension's storage, deleted when its tab closes${how}`, T, async (t) => {
        let b = browser;
        if (thirdPartyCookies) {
          if (!lib.canUnshare()) return t.skip('a Chromium policy needs root and unshare -m');
          b = await driver.launch('chromium', world, { thirdPartyCookies: true });
        }
        try {
          // The plaintext files: Firefox's, on disk in the profile; Chromium's, as an extension
          // page sees its origin's OPFS (the frame's storage is the extension's own there too).
          let extensionPage = null;
          const ours = kind === 'firefox'
            ? async () => b.extensionOpfsFiles().filter((f) => f.size === plain.length).length
            : async () => {
              extensionPage ??= await b.newPage(`chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`);
              return (await pagePlaintexts(extensionPage)).length;
            };
          const before = await ours();
          const pli = makePli(world, doc, { cipher: 'aes-256-gcm', name: 'onglet.p7m' });
          const page = await b.newPage(`${server.origin}/sign.html`);
          await page.waitForFunction(() => window.parapheLoaded);
          const consentP = b.expectConsent();
          const answer = decryptInPage(page, pli);
          const consent = await driver.consentFor(consentP, answer);
          await consent.confirm(world.fingerprint('03'), lib.PIN);
          const { result, error } = await answer;
          assert.equal(error, undefined, JSON.stringify(error));
          assert.ok(Buffer.from(result.base64, 'base64').equals(plain));
          await closed(consent);
          assert.equal(await ours(), before + 1, 'the plaintext is a file while its page is open');
          await page.close();
          // The background deletes it on tabs.onRemoved: wait for that state (the deadline
          // only guards against a hang).
          for (const deadline = Date.now() + 30_000; await ours() > before;) {
            if (Date.now() > deadline) throw new Error('the plaintext file outlived its tab');
            await new Promise((r) => setTimeout(r, 100));
          }
        } finally {
          if (b !== browser) await b.close();
        }
      });
    }

    // Chromium, third-party cookies blocked: the workers are the storage document's, which
    // outlives the frame; the frame ends them when it goes (pli/to-file.js). Known point: the
    // consent window waits for the person, so the file worker waits for the key and the
    // writer holds the plaintext file open (a file held open cannot be deleted). Firefox's
    // workers are the frame's own, and go with it.
    if (kind === 'chromium') {
      test('the tab closes while the consent window waits: the storage document\'s workers end with the frame, the plaintext file goes', T, async () => {
        const extensionPage = await browser.newPage(`chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`);
        const names = () => pagePlaintexts(extensionPage);
        const before = await names();
        const pli = makePli(world, doc, { cipher: 'aes-256-gcm', name: 'ferme.p7m' });
        const page = await browser.newPage(`${server.origin}/sign.html`);
        await page.waitForFunction(() => window.parapheLoaded);
        const consentP = browser.expectConsent();
        const answer = decryptInPage(page, pli);
        answer.catch(() => {}); // its page goes
        const consent = await driver.consentFor(consentP, answer);
        const made = (await names()).filter((n) => !before.includes(n));
        assert.equal(made.length, 1, 'the plaintext file, open for writing');
        await page.close();
        // The background deletes it on tabs.onRemoved, which it can once the writer let it
        // go (the deadline only guards against a hang).
        for (const deadline = Date.now() + 30_000; (await names()).includes(made[0]);) {
          if (Date.now() > deadline) throw new Error('the plaintext file outlived its tab: a worker still holds it');
          await new Promise((r) => setTimeout(r, 100));
        }
        await closed(consent); // the tab's job ended, and its window with it
        await extensionPage.close();
      });
    }

    // Chromium, third-party cookies blocked, a browser without the storage document yet: two
    // tabs' frames ask for it together (each before its consent window), the background
    // makes one, and both plis open to files through it.
    if (kind === 'chromium') {
      test('two tabs open plis at once, the storage document not made yet: one is made, both plis open to files', T, async () => {
        const b = await driver.launch('chromium', world);
        try {
          const pages = [];
          for (let i = 0; i < 2; i++) {
            const p = await b.newPage(`${server.origin}/sign.html`);
            await p.waitForFunction(() => window.parapheLoaded);
            pages.push(p);
          }
          const plis = ['un.p7m', 'deux.p7m'].map((name) => makePli(world, doc, { cipher: 'aes-256-gcm', name }));
          // The second tab is in front: its window comes first; the first tab's request
          // waits until that tab shows.
          let consentP = b.expectConsent();
          const answers = pages.map((p, i) => decryptInPage(p, plis[i]));
          const order = [1, 0];
          for (const i of order) {
            if (i !== order[0]) {
              consentP = b.expectConsent();
              await pages[i].bringToFront();
            }
            const consent = await driver.consentFor(consentP, answers[i]);
            assert.match(await consent.text('#items'), new RegExp(plis[i].name.replace('.', '\\.')));
            await consent.confirm(world.fingerprint('03'), lib.PIN);
            const { result, error } = await answers[i];
            assert.equal(error, undefined, JSON.stringify(error));
            assert.ok(Buffer.from(result.base64, 'base64').equals(plain), plis[i].name);
            await closed(consent);
          }
          const extensionPage = await b.newPage(`chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`);
          assert.equal((await pagePlaintexts(extensionPage)).length, 2, 'both plaintexts are files of the extension\'s OPFS');
          assert.equal(await extensionPage.raw.evaluate(() => chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] }).then((c) => c.length)), 1, 'the storage document is there');
        } finally {
          await b.close();
        }
      });
    }

    test('OAEP-SHA256: SoftHSM cannot, the page gets MECHANISM_NOT_SUPPORTED', T, async () => {
      const pli = makePli(world, doc, { cipher: 'aes256', oaep: 'sha256', name: 'oaep256.p7m' });
      const page = await openPortal();
      const consentP = browser.expectConsent();
      const answer = decryptInPage(page, pli);
      const consent = await driver.consentFor(consentP, answer);
      await consent.confirm(world.fingerprint('03'), lib.PIN);
      const { error } = await answer;
      assert.equal(error?.code, 'MECHANISM_NOT_SUPPORTED', JSON.stringify(error));
      await consent.waitFor('#status:not([hidden])');
      if (kind === 'firefox') {
        // WebDriver BiDi may not navigate a tab to moz-extension:// URLs; an extension page
        // may open one (as the toolbar popup's link does). Kept for the last test.
        await consent.evaluate(() => browser.tabs.create({ url: browser.runtime.getURL('pli/pli.html') }).then(() => true));
      }
      await consent.close();
      await page.close();
    });

    test('tampered GCM pli: PLI_INTEGRITY_FAILURE and no plaintext; a pli for someone else: NO_CERTIFICATE', T, async () => {
      const pli = makePli(world, doc, { cipher: 'aes-256-gcm', name: 'tampered.p7m' });
      pli.bytes[Math.floor(pli.bytes.length / 2)] ^= 1;
      const page = await openPortal();
      const started = Date.now();
      const consentP = browser.expectConsent();
      const answer = decryptInPage(page, pli);
      const consent = await driver.consentFor(consentP, answer);
      /** The page API's plaintext files made since `started`. */
      const plaintextFiles = async () => (await pagePlaintexts(consent)).filter((name) => Number(name.split('-')[2]) >= started - 1000);
      // This pli's file is there, in the storage the extension's pages see too, from before
      // the key (Chromium: the storage document's, the frame has none of its own here).
      assert.equal((await plaintextFiles()).length, 1, 'the frame writes to the extension\'s OPFS');
      await consent.confirm(world.fingerprint('03'), lib.PIN);
      const { result, error } = await answer;
      assert.equal(result, undefined, 'no plaintext');
      assert.equal(error?.code, 'PLI_INTEGRITY_FAILURE', JSON.stringify(error));
      await consent.waitFor('#status.error');
      assert.deepEqual(await plaintextFiles(), [], 'nothing left behind');
      await consent.close();

      // Addressed to a certificate that is not on the token: refused before any window.
      const key = path.join(world.dir, 'other.key');
      const cert = path.join(world.dir, 'other.crt');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
        '-days', '2', '-subj', '/CN=Quelqu\'un d\'autre'], { stdio: 'ignore' });
      const foreign = makePli(world, doc, { cipher: 'aes128', recipient: cert, name: 'foreign.p7m' });
      const refused = await decryptInPage(page, foreign);
      assert.equal(refused.error?.code, 'NO_CERTIFICATE', JSON.stringify(refused));
      await page.close();
    });

    test('« Ouvrir un pli » page: BER GCM pli streamed to a file, SHA-256 of the plaintext matches', T, async () => {
      const pli = makePli(world, doc, { cipher: 'aes-256-gcm', ber: true, name: 'grand-pli.p7m' });
      const url = kind === 'chromium'
        ? `chrome-extension://${lib.CHROMIUM_ID}/pli/pli.html`
        : `moz-extension://${GECKO_UUID}/pli/pli.html`;
      const page = kind === 'chromium' ? await browser.newPage(url) : await browser.pageAt(url);
      await page.waitFor('#file');
      await page.chooseFile('#file', pli.file);
      const consentP = browser.expectConsent();
      await page.click('#open');
      const consent = await consentP;
      assert.match(await consent.text('#items'), /grand-pli\.p7m/);
      await consent.confirm(world.fingerprint('03'), lib.PIN);
      await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error);
      const error = await page.evaluate(() => document.body.dataset.error);
      assert.equal(error, undefined, await page.text('#status'));
      const result = JSON.parse(await page.evaluate(() => document.body.dataset.result));
      assert.equal(result.size, plain.length);
      assert.equal(result.sha256, createHash('sha256').update(plain).digest('hex'));
      assert.equal(result.name, 'grand-pli');
      await closed(consent);

      // A tampered one: PLI_INTEGRITY_FAILURE, and its temporary file is gone (the one of
      // the pli above stays, for its download link).
      const temporaries = () => page.evaluate(async () => {
        const names = [];
        for await (const name of (await navigator.storage.getDirectory()).keys()) if (name.startsWith('pli-')) names.push(name);
        return names;
      });
      const kept = await temporaries();
      assert.equal(kept.length, 1, JSON.stringify(kept));
      const tampered = makePli(world, doc, { cipher: 'aes-256-gcm', ber: true, name: 'pli-altere.p7m' });
      tampered.bytes[Math.floor(tampered.bytes.length / 2)] ^= 1;
      fs.writeFileSync(tampered.file, tampered.bytes);
      await page.chooseFile('#file', tampered.file);
      const againP = browser.expectConsent();
      await page.click('#open');
      await (await againP).confirm(world.fingerprint('03'), lib.PIN);
      await page.waitForFunction(() => document.body.dataset.error);
      assert.equal(await page.evaluate(() => document.body.dataset.error), 'PLI_INTEGRITY_FAILURE');
      assert.deepEqual(await temporaries(), kept, 'nothing left behind');
      await page.close();
    });
  });
}
