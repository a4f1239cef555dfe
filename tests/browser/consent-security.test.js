// The consent window and the extension's own state against a hostile page (issue #19), in
// each browser asked for (run.sh), with the real extension, host and SoftHSM token:
//  - a hidden tab that nobody clicked asks for certificates and signatures: refused
//    (USER_ACTIVATION_REQUIRED), and no window opens;
//  - a request from a tab in the background waits, without a window, until the tab is shown;
//    one consent window per tab: ten requests, one window, nine CONSENT_PENDING;
//  - a click on the window's buttons while they wait (after the window shows, or after it
//    lost the focus) does nothing;
//  - what a content script can write (storage.local) grants nothing: no certificate list,
//    no LiberSign interface, no PIN session. In Chromium the write is tried from the
//    extension's real content-script world (CDP, Runtime.evaluate in its isolated world) and
//    refused; in Firefox, where content scripts may always write storage.local, the same
//    values are written there from an extension page.
//  - Chromium, from the content-script world (what a compromised page process can send):
//    no plaintext of a pli before its GCM tag is checked, and one tab can neither end
//    another tab's pli (nor close its window) nor take every document hasher.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 90_000 };

/** Starts `call(paraphe, arg)` in the page (a user gesture, as the drivers evaluate). */
function inPage(page, call, arg) {
  return page.evaluate(async ([text, a]) => {
    // eslint-disable-next-line no-new-func
    const fn = new Function('paraphe', 'arg', `return (${text})(paraphe, arg)`);
    try {
      return { result: await fn(window.paraphe, a) };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    }
  }, [call.toString(), arg]);
}

async function portal(browser, origin) {
  const page = await browser.newPage(`${origin}/sign.html`);
  await page.waitForFunction(() => window.parapheLoaded);
  return page;
}

/**
 * Chromium: the extension's content-script world (isolated world) of `page`'s main frame,
 * through CDP: `evaluate(expression)` runs there, as the content scripts do.
 */
async function contentWorld(context, page) {
  const cdp = await context.newCDPSession(page);
  const contexts = [];
  cdp.on('Runtime.executionContextCreated', ({ context: c }) => contexts.push(c));
  await cdp.send('Runtime.enable');
  const { frameTree } = await cdp.send('Page.getFrameTree');
  const ours = contexts.find((c) => c.auxData?.type === 'isolated' && c.auxData?.frameId === frameTree.frame.id
    && c.name.startsWith('Paraphe'));
  assert.ok(ours, `no Paraphe content-script world among ${contexts.map((c) => c.name).join(', ')}`);
  return {
    async evaluate(expression) {
      const r = await cdp.send('Runtime.evaluate', { expression, contextId: ours.id, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
      return r.result.value;
    },
  };
}

/** `openssl cms -encrypt` of `doc` for the token's encryption certificate (03). */
function makePli(world, doc, cipher, name) {
  const out = path.join(world.dir, name);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', `-${cipher}`, '-outform', 'DER', '-in', doc, '-out', out,
    '-recip', path.join(world.kit, 'pki', '03.crt')]);
  return fs.readFileSync(out);
}

for (const kind of driver.browsers()) {
  describe(`consent windows and stored grants (${kind})`, () => {
    let world;
    let server;
    let other;
    let browser;
    const go = []; // /go requests of pages/attack.html, held until the test answers them
    const reports = []; // {resolve} waiting for /report
    let reported = [];

    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`consent-${kind}`);
      server = await lib.startServer(world.dir, {
        '/go': (req, res) => go.push(res),
        '/report': (req, res) => {
          let body = '';
          req.on('data', (d) => { body += d; });
          req.on('end', () => {
            res.writeHead(204).end();
            reported.push(JSON.parse(body));
            reports.shift()?.resolve();
          });
        },
      });
      other = await lib.startServer(world.dir); // another origin, for the stored-grant test
      browser = await driver.launch(kind, world);
    });

    after(async () => {
      for (const res of go.splice(0)) res.destroy();
      await browser?.close();
      await server?.close();
      await other?.close();
      if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
      else world?.cleanup();
    });

    test('a hidden tab nobody clicked: USER_ACTIVATION_REQUIRED, and no window', T, async () => {
      const shown = await portal(browser, server.origin);
      reported = [];
      const report = new Promise((resolve) => reports.push({ resolve }));
      // The hostile page is never clicked nor evaluated: it waits for /go, then asks.
      const hostile = await browser.newPage(`${server.origin}/attack.html`);
      await shown.bringToFront(); // the hostile tab is now in the background
      while (go.length === 0) await new Promise((r) => setTimeout(r, 50)); // it waits for /go
      for (const res of go.splice(0)) res.writeHead(200).end('go');
      await report;
      assert.deepEqual(reported[0], ['USER_ACTIVATION_REQUIRED', 'USER_ACTIVATION_REQUIRED', 'USER_ACTIVATION_REQUIRED']);
      assert.equal(await browser.consentCount(), 0, 'no consent window');
      await hostile.close();
      await shown.close();
    });

    test('a request from a tab in the background waits for the tab; the tab\'s next one: CONSENT_PENDING', T, async () => {
      const behind = await portal(browser, server.origin);
      const front = await portal(browser, server.origin); // `behind` is hidden now
      // Two requests from the hidden tab (with a user gesture): one waits for the tab, the
      // other is refused at once.
      const first = await behind.evaluate(() => {
        const calls = [0, 1].map(() => window.paraphe.signHash({ hash: 'ab'.repeat(32), hashAlgorithm: 'sha256' })
          .then(() => 'answered', (e) => e.code));
        window.calls = Promise.all(calls);
        return Promise.race(calls);
      });
      assert.equal(first, 'CONSENT_PENDING');
      assert.equal(await browser.consentCount(), 0, 'no window while the tab is hidden');
      const consentP = browser.expectConsent();
      await behind.bringToFront();
      const consent = await consentP;
      assert.equal(await consent.origin(), server.origin);
      await consent.cancel();
      assert.deepEqual((await behind.evaluate(() => window.calls)).sort(), ['CONSENT_PENDING', 'USER_CANCELLED']);
      await front.close();
      await behind.close();
    });

    test('ten requests from one tab: one window, nine CONSENT_PENDING', T, async () => {
      const page = await portal(browser, server.origin);
      const consentP = browser.expectConsent();
      const nine = await page.evaluate(() => new Promise((resolve) => {
        const codes = [];
        window.ten = Array.from({ length: 10 }, () => window.paraphe.signHash({ hash: 'cd'.repeat(32), hashAlgorithm: 'sha256' })
          .then(() => 'answered', (e) => e.code));
        for (const p of window.ten) {
          p.then((code) => {
            codes.push(code);
            if (codes.length === 9) resolve(codes);
          });
        }
      }));
      assert.deepEqual(nine, Array(9).fill('CONSENT_PENDING'));
      const consent = await consentP;
      assert.equal(await browser.consentCount(), 1, 'one window');
      await consent.cancel();
      const all = await page.evaluate(() => Promise.all(window.ten));
      assert.equal(all.filter((c) => c === 'USER_CANCELLED').length, 1);
      await page.close();
    });

    test('the tab that asked closes: its consent window closes with it', T, async () => {
      const page = await portal(browser, server.origin);
      const consentP = browser.expectConsent();
      inPage(page, (p) => p.signHash({ hash: 'ef'.repeat(32), hashAlgorithm: 'sha256' })).catch(() => {}); // its page goes
      const consent = await consentP;
      await consent.waitArmed(); // a window asking, ready to be answered
      await page.close();
      // The deadline only guards against a hang.
      for (const deadline = Date.now() + 30_000; (await browser.consentCount()) > 0;) {
        if (Date.now() > deadline) throw new Error('the consent window outlived the tab that asked');
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    test('a click while the buttons wait (the window just lost the focus) does nothing', T, async () => {
      const page = await portal(browser, server.origin);
      const consentP = browser.expectConsent();
      const pending = inPage(page, (p) => p.listCertificates());
      const consent = await consentP;
      await consent.waitArmed();
      // The window loses the focus: its buttons stop answering until it has it back, and
      // 750 ms more (the same delay as after the window shows).
      await consent.evaluate(() => window.dispatchEvent(new Event('blur')));
      assert.equal(await consent.evaluate(() => document.getElementById('confirm').disabled), true);
      // A real (trusted) click on « Autoriser »: nothing happens.
      await (kind === 'chromium' ? consent.raw.click('#confirm', { force: true }) : consent.raw.click('#confirm'));
      assert.equal(await consent.evaluate(() => !document.getElementById('main').hidden
        && !document.querySelector('input[name=certificate]').disabled), true, 'the click was not taken');
      assert.equal(await browser.consentCount(), 1);
      // Back in focus: after the delay the same click answers.
      await consent.evaluate(() => window.dispatchEvent(new Event('focus')));
      await consent.waitArmed();
      await consent.clickClosing('#confirm');
      const { result, error } = await pending;
      assert.equal(error, undefined, JSON.stringify(error));
      assert.ok(result.some((c) => c.fingerprint === world.fingerprint('01')), 'the certificates, once allowed');
      await page.close();
    });

    test('what a content script can write grants nothing: certificates, LiberSign, PIN session', T, async () => {
      const forged = { certificateListOrigins: [other.origin], libersignOrigins: [other.origin], pinSessionMinutes: 480 };
      let page = await portal(browser, other.origin);
      if (kind === 'chromium') {
        // From the extension's content-script world of the page.
        const cs = await contentWorld(browser.context, page.raw);
        const tried = await cs.evaluate(`(async () => {
          const out = {};
          try { await chrome.storage.local.set(${JSON.stringify(forged)}); out.local = 'written'; }
          catch (e) { out.local = String(e.message ?? e); }
          // Its indexedDB is the web page's, not the extension's.
          out.idb = await new Promise((resolve) => {
            const r = indexedDB.open('paraphe', 1);
            r.onupgradeneeded = () => r.result.createObjectStore('settings');
            r.onsuccess = () => {
              const tx = r.result.transaction('settings', 'readwrite');
              for (const [k, v] of Object.entries(${JSON.stringify(forged)})) tx.objectStore('settings').put(v, k);
              tx.oncomplete = () => resolve('written in ' + location.origin);
              tx.onerror = () => resolve(String(tx.error));
            };
            r.onerror = () => resolve(String(r.error));
          });
          return out;
        })()`);
        assert.match(tried.local, /not allowed/i, 'storage.local is closed to content scripts');
        assert.equal(tried.idb, `written in ${other.origin}`);
      } else {
        // Firefox content scripts may always write storage.local: write there what they could.
        const consentP = browser.expectConsent();
        const pending = inPage(page, (p) => p.signHash({ hash: 'ef'.repeat(32), hashAlgorithm: 'sha256' }));
        const consent = await consentP;
        await consent.evaluate((values) => browser.storage.local.set(values), forged);
        assert.deepEqual(await consent.evaluate(() => browser.storage.local.get('pinSessionMinutes')), { pinSessionMinutes: 480 });
        await consent.cancel();
        assert.equal((await pending).error?.code, 'USER_CANCELLED');
      }

      // No certificate grant: the site is asked.
      let consentP = browser.expectConsent();
      let pending = inPage(page, (p) => p.listCertificates());
      let consent = await consentP;
      assert.equal(await consent.origin(), other.origin);
      await consent.cancel();
      assert.equal((await pending).error?.code, 'USER_CANCELLED');

      // No PIN session: each consent asks for the PIN.
      for (const round of [1, 2]) {
        consentP = browser.expectConsent();
        pending = inPage(page, (p) => p.signHash({ hash: '12'.repeat(32), hashAlgorithm: 'sha256' }));
        consent = await consentP;
        assert.equal(await consent.visible('#pin'), true, `round ${round}: the PIN is asked`);
        await consent.confirm(world.fingerprint('01'), lib.PIN);
        const { error } = await pending;
        assert.equal(error, undefined, JSON.stringify(error));
      }

      // No LiberSign interface on the site.
      await page.close();
      page = await portal(browser, other.origin);
      assert.equal(await page.evaluate(() => typeof window.LiberSign), 'undefined');
      await page.close();
    });
  });
}

// ---- Chromium: what the content-script world itself may send (a compromised page process) ---

if (driver.browsers().includes('chromium')) {
  describe('plis and hashing from the content-script world (chromium)', () => {
    let world;
    let server;
    let browser;
    let plain;
    let doc;

    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld('consent-pli');
      server = await lib.startServer(world.dir);
      browser = await driver.launch('chromium', world);
      plain = randomBytes(1300 * 1024 + 7); // three 512 KiB chunks
      doc = path.join(world.dir, 'offre.pdf');
      fs.writeFileSync(doc, plain);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
      if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
      else world?.cleanup();
    });

    // Runs in the content-script world: `send(message)` as content/decrypt.js does.
    const SEND = `const send = async (m) => { const r = await chrome.runtime.sendMessage(m); if (r.error) throw r.error; return r.result; };`;

    test('no plaintext reaches the content script before the GCM tag is checked', T, async () => {
      const pli = makePli(world, doc, 'aes-256-gcm', 'tampered.p7m');
      pli[pli.length - 5] ^= 1; // the tag (last bytes of the DER)
      const page = await browser.newPage(`${server.origin}/sign.html`);
      const cs = await contentWorld(browser.context, page.raw);
      await cs.evaluate(`(() => { globalThis.pli = Uint8Array.from(atob('${pli.toString('base64')}'), (c) => c.charCodeAt(0)); })()`);
      const b64 = 'const b64 = (u) => { let s = ""; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); };';
      // Up to the header, then the key (consent + PIN), then the rest.
      const head = await cs.evaluate(`(async () => { ${SEND} ${b64}
        await send({ kind: 'pli-start', jobId: 'j', name: 'x.p7m', size: pli.length, activation: true });
        globalThis.answers = [];
        globalThis.at = 0;
        while (at < pli.length) {
          const r = await send({ kind: 'pli-chunk', jobId: 'j', data: b64(pli.subarray(at, at + 524288)) });
          at += 524288;
          answers.push(r);
          if (r.headerReady) return answers;
        }
        return answers;
      })()`);
      assert.ok(head.at(-1).headerReady);
      const consentP = browser.expectConsent();
      const opened = cs.evaluate(`(async () => { ${SEND} return send({ kind: 'pli-open', jobId: 'j' }); })()`);
      const consent = await consentP;
      await consent.confirm(world.fingerprint('03'), lib.PIN);
      assert.equal((await opened).authenticated, true);
      const rest = await cs.evaluate(`(async () => { ${SEND} ${b64}
        const out = { answers: [] };
        for (; at < pli.length; at += 524288) out.answers.push(await send({ kind: 'pli-chunk', jobId: 'j', data: b64(pli.subarray(at, at + 524288)) }));
        try { await send({ kind: 'pli-read', jobId: 'j', offset: 0 }); out.early = 'read'; } catch (e) { out.early = e.code; }
        return out;
      })()`);
      assert.ok(rest.answers.length >= 2, 'chunks after the key');
      for (const a of [...head, ...rest.answers]) assert.equal(a.plaintext, undefined, 'no plaintext with a chunk');
      // Asking for the plaintext before the end is checked: refused, and the job ends.
      assert.equal(rest.early, 'INVALID_REQUEST');
      await consent.waitFor('#status.error');
      await consent.close();

      // Again to the end: the tag fails, nothing is released.
      const consent2P = browser.expectConsent();
      const again = cs.evaluate(`(async () => { ${SEND} ${b64}
        await send({ kind: 'pli-start', jobId: 'k', name: 'x.p7m', size: pli.length, activation: true });
        const seen = [];
        let opened = false;
        for (let at = 0; at < pli.length; at += 524288) {
          const r = await send({ kind: 'pli-chunk', jobId: 'k', data: b64(pli.subarray(at, at + 524288)) });
          seen.push(r.plaintext ?? null);
          if (r.headerReady && !opened) { await send({ kind: 'pli-open', jobId: 'k' }); opened = true; }
        }
        let finish;
        try { finish = await send({ kind: 'pli-finish', jobId: 'k' }); } catch (e) { finish = e.code; }
        let read;
        try { read = await send({ kind: 'pli-read', jobId: 'k', offset: 0 }); } catch (e) { read = e.code; }
        return { seen, finish, read };
      })()`);
      const consent2 = await consent2P;
      await consent2.confirm(world.fingerprint('03'), lib.PIN);
      const { seen, finish, read } = await again;
      assert.deepEqual(seen, seen.map(() => null), 'no plaintext with any chunk');
      assert.equal(finish, 'PLI_INTEGRITY_FAILURE');
      assert.equal(read, 'INVALID_REQUEST', 'nothing to read after the failure');
      await consent2.waitFor('#status.error');
      await consent2.close();
      await page.close();
    });

    test('PAdES: what the card signs comes from the extension frame, never from the content script', T, async () => {
      // A PDF the consent window will show by its SHA-256…
      const pdf = Buffer.from('%PDF-1.7\n% a contract\n%%EOF\n');
      const shown = createHash('sha256').update(pdf).digest();
      // …and a layout the content script makes up: valid in form (a /Contents placeholder big
      // enough, the digest of the file shown), but over a digest of its own choosing.
      const length = 40_000;
      const forged = JSON.stringify({
        pades: {
          hashAlgorithm: 'sha256',
          sourceDigest: shown.toString('base64'),
          documentDigest: randomBytes(32).toString('base64'),
          update: Buffer.from(`<${'0'.repeat(length)}>\n`).toString('base64'),
          contentsAt: 0,
          contentsLength: length,
        },
      });
      const page = await browser.newPage(`${server.origin}/sign.html`);
      await page.waitForFunction(() => window.parapheLoaded);
      const cs = await contentWorld(browser.context, page.raw);
      // The frame's own message, sent from the content script: refused.
      const direct = await cs.evaluate(`(async () => { ${SEND}
        try { await send({ kind: 'pdf-frame-layout', reply: 'r', layout: ${JSON.stringify(forged)} }); return 'accepted'; } catch (e) { return e.code; }
      })()`);
      assert.equal(direct, 'ORIGIN_NOT_ALLOWED');
      // A signHash in PAdES on the page port, as content/content.js sends it, whose layout
      // question the content script answers itself.
      const request = { type: 'signHash', format: 'pades', hashes: [{ digest: shown.toString('hex'), hashAlgorithm: 'sha256', name: 'contrat.pdf', size: pdf.length }] };
      const consentP = browser.expectConsent();
      const answer = cs.evaluate(`new Promise((resolve) => {
        const port = chrome.runtime.connect({ name: 'page' });
        port.onMessage.addListener((msg) => {
          if (msg.ask) { port.postMessage({ answer: { id: msg.ask.id, result: ${JSON.stringify(forged)} } }); return; }
          if (msg.progress) return;
          port.disconnect();
          resolve(msg);
        });
        port.postMessage({ request: ${JSON.stringify(JSON.stringify(request))}, frameOrigin: location.origin, activation: true });
      })`);
      const consent = await consentP;
      assert.match(await consent.text('#items'), /contrat\.pdf/);
      // The window says how the file is signed (consent/consent.js, consentFormat_pades).
      assert.equal(await consent.evaluate(() => document.querySelector('#items li .format')?.dataset.format), 'pades');
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      const reply = await answer;
      assert.equal(reply.result, undefined, 'nothing signed');
      assert.equal(reply.error?.code, 'INVALID_REQUEST', JSON.stringify(reply));
      assert.match(reply.error.message, /not laid out by the extension frame/);
      await consent.close().catch(() => {});
      await page.close();
    });

    test('one tab can neither end another tab\'s pli (and its window) nor take every hasher', T, async () => {
      const pli = makePli(world, doc, 'aes-256-cbc', 'offre.pdf.p7m');
      // Tab B opens a pli through the page API; its consent window waits for the person.
      const victim = await browser.newPage(`${server.origin}/sign.html`);
      await victim.waitForFunction(() => window.parapheLoaded);
      const consentP = browser.expectConsent();
      const decrypted = victim.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        try {
          const r = await window.paraphe.decrypt(new Blob([bytes]), { name: 'offre.pdf.p7m' });
          const u = new Uint8Array(await r.plaintext.arrayBuffer());
          let s = '';
          for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
          return { base64: btoa(s) };
        } catch (e) {
          return { error: e.code };
        }
      }, pli.toString('base64'));
      const consent = await consentP;

      // Tab A, from its content-script world: ten plis started and never finished, and as
      // many hashers as it can get.
      const hostile = await browser.newPage(`${server.origin}/sign.html`);
      const cs = await contentWorld(browser.context, hostile.raw);
      const flood = await cs.evaluate(`(async () => { ${SEND}
        const starts = [];
        for (let i = 0; i < 10; i++) {
          try { await send({ kind: 'pli-start', jobId: 'flood' + i, name: 'x', size: 1 }); starts.push('ok'); }
          catch (e) { starts.push(e.code); }
        }
        const hashes = [];
        globalThis.ports = [];
        for (let i = 0; i < 6; i++) {
          hashes.push(await new Promise((resolve) => {
            const port = chrome.runtime.connect({ name: 'hash' });
            ports.push(port);
            port.onMessage.addListener((m) => resolve(m.ack ? 'ok' : m.error?.code));
            port.postMessage({ algorithm: 'sha256' });
            port.postMessage({ data: btoa('x') });
          }));
        }
        return { starts, hashes };
      })()`);
      assert.deepEqual(flood.starts, Array(10).fill('ok'), 'each tab ends only its own oldest pli');
      assert.deepEqual(flood.hashes, ['ok', 'ok', 'ok', 'ok', 'INVALID_REQUEST', 'INVALID_REQUEST'], 'four hashers per tab');

      // Tab B's window is still there, and its pli opens.
      assert.equal(await browser.consentCount(), 1);
      await victim.bringToFront();
      await consent.confirm(world.fingerprint('03'), lib.PIN);
      const r = await decrypted;
      assert.equal(r.error, undefined, JSON.stringify(r));
      assert.ok(Buffer.from(r.base64, 'base64').equals(plain), 'plaintext byte for byte');

      // And tab B can still hash a document while tab A holds its four.
      const consentSignP = browser.expectConsent();
      const signing = inPage(victim, (p) => p.signDocument(new Blob(['contrat']), { name: 'contrat.txt' }));
      const consentSign = await consentSignP;
      assert.match(await consentSign.text('#items'), /contrat\.txt/);
      await consentSign.cancel();
      assert.equal((await signing).error?.code, 'USER_CANCELLED');
      await hostile.close();
      await victim.close();
    });
  });
}
