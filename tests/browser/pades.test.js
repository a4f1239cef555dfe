// PAdES through the page API (`format: 'pades'`, docs/PAGE-API.md), end to end in headless
// Chromium and Firefox ESR, real host, SoftHSM token:
// - a batch of 20 PDFs under one consent and one PIN: 18 with a classic xref table, one
//   rewritten by qpdf with object streams and a compressed xref stream, one signed beforehand
//   by pyHanko. Each comes back as a Blob (the signed PDF), and each is checked by two
//   independent validators: poppler's `pdfsig` (every signature valid, the last one covering
//   the whole file) and pyHanko's validator (intact, valid, trusted by the kit's CA, the
//   earlier signature still allowed). Never by Paraphe's own verifier.
// - what PAdES refuses, with its page code and before any consent window: a file that is
//   not a PDF (PDF_INVALID), an encrypted PDF (qpdf, PDF_ENCRYPTED), a PDF certified with no
//   change allowed (pyHanko, PDF_CERTIFIED); and `signHash` with `format: 'pades'`.
// - a batch whose consent window is closed mid-batch (at a known point: three signatures
//   made and reported, the next held at tests/kit/pkcs11-gate) reports exactly which PDFs
//   were signed, each with its signed PDF as a Blob that pdfsig verifies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';

const T = { timeout: 600_000 };
const PYHANKO = path.join(lib.ROOT, 'scripts/pyhanko.sh');
const PYHANKO_TOOL = path.join(lib.ROOT, 'formats/tests/pades/pyhanko_tool.py');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}` };
}

function must(cmd, args) {
  const r = run(cmd, args);
  assert.ok(r.ok, `${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out;
}

/** `pdfsig`: `signatures` signatures, each valid over its byte range, the last over the whole file. */
function pdfsigChecks(file, signatures) {
  const { out } = run('pdfsig', ['-nocert', file]);
  assert.equal(out.match(/Signature Validation: Signature is Valid\./g)?.length ?? 0, signatures, `pdfsig ${file}: ${out}`);
  assert.equal(out.match(/ETSI\.CAdES\.detached/g)?.length ?? 0, signatures, `pdfsig ${file}: ${out}`);
  assert.match(out, /Total document signed/, `pdfsig ${file}: ${out}`);
}

/** pyHanko's validator: every signature intact, valid, trusted (kit CA), allowed by what follows. */
function pyhankoChecks(world, file, signatures) {
  const { ok, out } = run(PYHANKO, [PYHANKO_TOOL, 'validate', file, path.join(world.kit, 'pki/ca.crt')]);
  assert.ok(ok, `pyHanko rejects ${file}: ${out}`);
  const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.equal(lines.length, signatures, out);
  assert.equal(lines.at(-1).coverage, 'ENTIRE_FILE', out);
  for (const l of lines) assert.equal(l.subFilter, '/ETSI.CAdES.detached', out);
}

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

/** In the page: the files of `names` fetched from the test server, as Files. */
const FETCH_FILES = `async (names) => Promise.all(names.map(async (n) =>
  new File([await (await fetch('/pdf?name=' + encodeURIComponent(n))).blob()], n, { type: 'application/pdf' })))`;

for (const kind of driver.browsers()) {
  describe(`${kind}: PAdES through the page API`, () => {
    let world;
    let server;
    let browser;
    let page;
    let pdfs;
    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`pades-${kind}`, { gated: true });
      pdfs = path.join(world.dir, 'pdfs');
      fs.mkdirSync(pdfs);
      server = await lib.startServer(world.dir, {
        '/pdf': (req, res, url) => {
          const file = path.join(pdfs, path.basename(url.searchParams.get('name') ?? ''));
          if (!fs.existsSync(file)) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/pdf', 'cache-control': 'no-store' });
          res.end(fs.readFileSync(file));
        },
      });
      browser = await driver.launch(kind, world, {});
      page = await browser.newPage(`${server.origin}/sign.html`);
      await page.waitForFunction(() => window.parapheLoaded === true);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
    });

    test('20 PDFs under one consent and one PIN (object streams, one signed by pyHanko before), each verified by pdfsig and pyHanko', T, async () => {
      const key = path.join(world.kit, 'pki/01.key');
      const cert = path.join(world.kit, 'pki/01.crt');
      const names = [];
      const before = {}; // signatures each file has before
      for (let i = 1; i <= 18; i++) {
        const name = `Délibération ${i}.pdf`;
        fs.writeFileSync(path.join(pdfs, name), lib.simplePdf(i));
        names.push(name);
        before[name] = 0;
      }
      const plain = path.join(pdfs, 'plain.tmp');
      fs.writeFileSync(plain, lib.simplePdf(19));
      must('qpdf', ['--object-streams=generate', plain, path.join(pdfs, 'objets compressés.pdf')]);
      names.push('objets compressés.pdf');
      before['objets compressés.pdf'] = 0;
      fs.writeFileSync(plain, lib.simplePdf(20));
      must(PYHANKO, [PYHANKO_TOOL, 'sign', plain, path.join(pdfs, 'déjà signé.pdf'), key, cert]);
      names.push('déjà signé.pdf');
      before['déjà signé.pdf'] = 1;
      assert.equal(names.length, 20);

      const consentP = browser.expectConsent();
      const pending = inPage(page, async (paraphe, a) => {
        // eslint-disable-next-line no-new-func
        const files = await new Function(`return (${a.fetchFiles})`)()(a.names);
        const progress = [];
        const r = await paraphe.signDocuments(files, {
          certificate: a.certificate,
          format: 'pades',
          onProgress: (p) => progress.push({ index: p.signature.index, isBlob: p.signature.signature instanceof Blob }),
        });
        const toBase64 = async (blob) => {
          const bytes = new Uint8Array(await blob.arrayBuffer());
          let s = '';
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(s);
        };
        return {
          certificate: r.certificate,
          progress,
          signatures: await Promise.all(r.signatures.map(async (s) => ({
            format: s.format, digest: s.digest, hashAlgorithm: s.hashAlgorithm, type: s.signature.type,
            isBlob: s.signature instanceof Blob, pdf: await toBase64(s.signature),
          }))),
        };
      }, { names, certificate: world.fingerprint('01'), fetchFiles: FETCH_FILES });
      const consent = await consentP;
      // Each PDF listed with the format it gets (consent/consent.js, consentFormat_pades).
      const listed = await consent.evaluate(() => [...document.querySelectorAll('#items li')]
        .map((li) => [li.querySelector('strong').textContent, li.querySelector('.format')?.dataset.format, li.querySelector('.format')?.textContent]));
      assert.deepEqual(listed.map(([n, f]) => [n, f]), names.map((n) => [n, 'pades']), JSON.stringify(listed));
      assert.ok(listed.every(([, , text]) => /PAdES/.test(text)), JSON.stringify(listed));
      consent.confirm(world.fingerprint('01'), lib.PIN);
      const { result, error } = await pending;
      assert.equal(error, undefined, JSON.stringify(error));
      assert.equal(result.certificate.fingerprint, world.fingerprint('01'));
      assert.deepEqual(result.progress.map((p) => p.index), names.map((_, i) => i), 'one progress report per PDF, in order');
      assert.ok(result.progress.every((p) => p.isBlob), 'progress carries the signed PDF as a Blob');
      assert.equal(result.signatures.length, 20);
      const out = fs.mkdtempSync(path.join(world.dir, 'signed-'));
      for (const [i, s] of result.signatures.entries()) {
        const original = fs.readFileSync(path.join(pdfs, names[i]));
        assert.equal(s.format, 'pades');
        assert.ok(s.isBlob, 'the signed PDF is a Blob');
        assert.equal(s.type, 'application/pdf');
        const signed = Buffer.from(s.pdf, 'base64');
        assert.ok(signed.subarray(0, original.length).equals(original), `${names[i]}: an incremental update of the original`);
        const sha = spawnSync('sha256sum', { input: original }).stdout.toString().split(' ')[0];
        assert.equal(s.digest, sha, `${names[i]}: the digest shown is the file's SHA-256`);
        const file = path.join(out, names[i]);
        fs.writeFileSync(file, signed);
        pdfsigChecks(file, before[names[i]] + 1);
        pyhankoChecks(world, file, before[names[i]] + 1);
      }
    });

    test('refused before any consent: not a PDF, encrypted, certified with no change allowed; signHash with pades', T, async () => {
      fs.writeFileSync(path.join(pdfs, 'notes.pdf'), 'ceci n’est pas un PDF\n');
      fs.writeFileSync(path.join(pdfs, 'base.tmp'), lib.simplePdf(30));
      must('qpdf', ['--encrypt', 'lecture', 'proprio', '256', '--', path.join(pdfs, 'base.tmp'), path.join(pdfs, 'chiffré.pdf')]);
      must(PYHANKO, [PYHANKO_TOOL, 'certify', path.join(pdfs, 'base.tmp'), path.join(pdfs, 'certifié.pdf'),
        path.join(world.kit, 'pki/01.key'), path.join(world.kit, 'pki/01.crt')]);
      fs.writeFileSync(path.join(pdfs, 'bon.pdf'), lib.simplePdf(31));
      const windows = await browser.consentCount();
      for (const [name, code] of [['notes.pdf', 'PDF_INVALID'], ['chiffré.pdf', 'PDF_ENCRYPTED'], ['certifié.pdf', 'PDF_CERTIFIED']]) {
        const { error } = await inPage(page, async (paraphe, a) => {
          // eslint-disable-next-line no-new-func
          const files = await new Function(`return (${a.fetchFiles})`)()(a.names);
          return paraphe.signDocuments(files, { format: 'pades' });
        }, { names: ['bon.pdf', name], fetchFiles: FETCH_FILES });
        assert.equal(error?.code, code, JSON.stringify(error));
        assert.ok(error.message.startsWith(`${name}: `), `the message names the file: ${error.message}`);
      }
      const { error } = await inPage(page, (paraphe) => paraphe.signHash({
        hashes: [{ digest: 'a'.repeat(64), hashAlgorithm: 'sha256', name: 'a.pdf', size: 3 }], format: 'pades',
      }));
      assert.equal(error?.code, 'INVALID_REQUEST', JSON.stringify(error));
      // `visible` is PAdES's only.
      const visible = await inPage(page, async (paraphe, a) => {
        // eslint-disable-next-line no-new-func
        const files = await new Function(`return (${a.fetchFiles})`)()(a.names);
        return paraphe.signDocuments(files, { format: 'cades', visible: true });
      }, { names: ['bon.pdf'], fetchFiles: FETCH_FILES });
      assert.equal(visible.error?.code, 'INVALID_REQUEST', JSON.stringify(visible));
      assert.equal(await browser.consentCount(), windows, 'no consent window opened');
    });

    test('visible: true draws the signature on each PDF\'s last page (object streams too), pdfsig and pyHanko valid', T, async () => {
      const names = ['avis visible.pdf', 'objets visibles.pdf'];
      fs.writeFileSync(path.join(pdfs, names[0]), lib.simplePdf(60));
      fs.writeFileSync(path.join(pdfs, 'visible.tmp'), lib.simplePdf(61));
      must('qpdf', ['--object-streams=generate', path.join(pdfs, 'visible.tmp'), path.join(pdfs, names[1])]);
      const consentP = browser.expectConsent();
      const pending = inPage(page, async (paraphe, a) => {
        // eslint-disable-next-line no-new-func
        const files = await new Function(`return (${a.fetchFiles})`)()(a.names);
        const r = await paraphe.signDocuments(files, { certificate: a.certificate, format: 'pades', visible: true });
        return Promise.all(r.signatures.map(async (s) => {
          const bytes = new Uint8Array(await s.signature.arrayBuffer());
          let t = '';
          for (let i = 0; i < bytes.length; i += 0x8000) t += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(t);
        }));
      }, { names, certificate: world.fingerprint('01'), fetchFiles: FETCH_FILES });
      const consent = await consentP;
      const listed = await consent.evaluate(() => [...document.querySelectorAll('#items li .format')].map((f) => [f.dataset.format, f.dataset.visible]));
      assert.deepEqual(listed, names.map(() => ['pades', 'true']), 'the consent window says the signatures are visible');
      consent.confirm(world.fingerprint('01'), lib.PIN);
      const { result, error } = await pending;
      assert.equal(error, undefined, JSON.stringify(error));
      const out = fs.mkdtempSync(path.join(world.dir, 'visible-'));
      for (const [i, b64] of result.entries()) {
        const file = path.join(out, names[i]);
        fs.writeFileSync(file, Buffer.from(b64, 'base64'));
        pdfsigChecks(file, 1);
        pyhankoChecks(world, file, 1);
        const last = must('pdftotext', ['-f', '2', '-l', '2', '-enc', 'UTF-8', file, '-']);
        assert.match(last, /Signé par Camille Martin/, `${names[i]}: ${last}`);
        assert.match(last, /Paraphe/, `${names[i]}: ${last}`);
      }
    });

    test('closing the consent window mid-batch: exactly the PDFs reported signed, each a Blob pdfsig verifies', T, async () => {
      const names = Array.from({ length: 8 }, (_, i) => `mandat ${i + 1}.pdf`);
      for (const [i, name] of names.entries()) fs.writeFileSync(path.join(pdfs, name), lib.simplePdf(40 + i));
      const SIGNED = 3;
      const heldTicket = world.gate.holdAfter('C_Sign', SIGNED);
      const consentP = browser.expectConsent();
      await page.evaluate(() => { window.padesSeen = []; });
      const pending = page.evaluate(async ([a]) => {
        // eslint-disable-next-line no-new-func
        const files = await new Function(`return (${a.fetchFiles})`)()(a.names);
        const toBase64 = async (blob) => {
          const bytes = new Uint8Array(await blob.arrayBuffer());
          let s = '';
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(s);
        };
        try {
          await window.paraphe.signDocuments(files, {
            certificate: a.certificate, format: 'pades', onProgress: (p) => window.padesSeen.push(p.signature.index),
          });
          return { result: 'signed' };
        } catch (e) {
          return {
            error: {
              code: e.code, signed: e.signed, notSigned: e.notSigned,
              signatures: await Promise.all((e.signatures ?? []).map(async (s) => ({ isBlob: s.signature instanceof Blob, pdf: await toBase64(s.signature) }))),
            },
          };
        }
      }, [{ names, certificate: world.fingerprint('01'), fetchFiles: FETCH_FILES }]);
      const consent = await consentP;
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      try {
        await world.gate.held('C_Sign', heldTicket);
        await page.waitForFunction(() => (window.padesSeen?.length ?? 0) >= 3); // SIGNED
        await consent.close();
      } finally {
        world.gate.releaseAll('C_Sign');
      }
      const { result, error } = await pending;
      assert.equal(result, undefined, 'the batch must stop when the window closes');
      assert.equal(error.code, 'USER_CANCELLED');
      const seen = await page.evaluate(() => window.padesSeen);
      assert.ok(seen.length >= SIGNED && seen.length < names.length, `stopped: ${seen.length} reported`);
      assert.deepEqual(error.signed, seen, 'signed: exactly the PDFs reported');
      assert.deepEqual(error.notSigned, Array.from({ length: names.length - seen.length }, (_, i) => seen.length + i));
      assert.equal(error.signatures.length, seen.length);
      const out = fs.mkdtempSync(path.join(world.dir, 'interrupted-'));
      for (const [k, s] of error.signatures.entries()) {
        assert.ok(s.isBlob, 'each signed PDF is a Blob');
        const original = fs.readFileSync(path.join(pdfs, names[error.signed[k]]));
        const signed = Buffer.from(s.pdf, 'base64');
        assert.ok(signed.subarray(0, original.length).equals(original), 'the signed PDF of the right document');
        const file = path.join(out, names[error.signed[k]]);
        fs.writeFileSync(file, signed);
        pdfsigChecks(file, 1);
      }
    });
  });
}
