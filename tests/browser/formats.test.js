// Signature formats through the page API, end to end in headless Chromium and Firefox ESR,
// real host, SoftHSM token (docs/PAGE-API.md):
// - `format: 'xades'`: three files signed under one consent and one PIN, each returned as a
//   detached XAdES baseline B-B jeton; every jeton is written beside its file and checked by
//   `xmlsec1 --verify` against the kit's CA (it resolves the Reference URI, the file's name,
//   in its working directory), and fails once the file is changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 300_000 };

/** Runs `fn(paraphe, arg)` in the page and returns {result} or {error}. */
function inPage(page, fn, arg) {
  return page.evaluate(async ([text, a]) => {
    // eslint-disable-next-line no-new-func
    const call = new Function('paraphe', 'arg', `return (${text})(paraphe, arg)`);
    try {
      return { result: await call(window.paraphe, a) };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    }
  }, [fn.toString(), arg]);
}

/** `xmlsec1 --verify` of `jeton` in `dir`, where the signed file is. */
function xmlsecVerifies(world, dir, jeton) {
  const r = spawnSync('xmlsec1', ['--verify', '--id-attr:Id', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
    '--trusted-pem', path.join(world.kit, 'pki/ca.crt'), jeton], { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

for (const kind of driver.browsers()) {
  describe(`${kind}: signature formats`, () => {
    let world;
    let server;
    let browser;
    let page;
    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`formats-${kind}`);
      server = await lib.startServer(world.dir);
      browser = await driver.launch(kind, world, {});
      page = await browser.newPage(`${server.origin}/sign.html`);
      await page.waitForFunction(() => window.parapheLoaded === true);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
    });

    test('XAdES jetons: three files, one consent, one PIN, each verified by xmlsec1 beside its file', T, async () => {
      const docs = ['Délibération n°42.pdf', 'annexe 1.odt', 'budget#2026.csv']
        .map((name, i) => ({ name, data: randomBytes(5000 + i) }));
      const consentP = browser.expectConsent();
      const pending = inPage(page, (paraphe, a) => paraphe.signDocuments(
        a.docs.map((d) => new File([new Uint8Array(d.data)], d.name)), { certificate: a.certificate, format: 'xades' }),
      { docs: docs.map((d) => ({ name: d.name, data: [...d.data] })), certificate: world.fingerprint('01') });
      (await consentP).confirm(world.fingerprint('01'), lib.PIN);
      const { result, error } = await pending;
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(result.signatures.length, docs.length);
      const dir = fs.mkdtempSync(path.join(world.dir, 'jetons-'));
      for (const [i, s] of result.signatures.entries()) {
        assert.equal(s.format, 'xades');
        const xml = Buffer.from(s.signature, 'base64').toString('utf8');
        assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ds:Signature /);
        fs.writeFileSync(path.join(dir, docs[i].name), docs[i].data);
        const jeton = `${docs[i].name}.xml`;
        fs.writeFileSync(path.join(dir, jeton), xml);
        const { ok, out } = xmlsecVerifies(world, dir, jeton);
        assert.ok(ok, `xmlsec1 --verify ${jeton}: ${out}`);
        fs.writeFileSync(path.join(dir, docs[i].name), Buffer.concat([docs[i].data, Buffer.from('x')]));
        assert.ok(!xmlsecVerifies(world, dir, jeton).ok, `${jeton}: a changed file fails`);
      }
    });

    test('XAdES refuses unnamed digests and other hashes, before any consent', T, async () => {
      const hash = 'a'.repeat(64);
      for (const hashes of [[{ digest: hash, hashAlgorithm: 'sha256' }], [{ digest: `${hash}${'a'.repeat(32)}`, hashAlgorithm: 'sha384', name: 'a.pdf' }]]) {
        const { error } = await inPage(page, (paraphe, a) => paraphe.signHash({ hashes: a.hashes, format: 'xades' }), { hashes });
        assert.equal(error?.code, 'INVALID_REQUEST', JSON.stringify(error));
      }
    });
  });
}
