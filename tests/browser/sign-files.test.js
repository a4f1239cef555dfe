// « Signer des fichiers » (extension/src/sign/), end to end in headless Chromium and Firefox
// ESR with the real extension, host and SoftHSM token. Files are chosen through the page's
// own file input (playwright's setInputFiles; Marionette's WebDriver:ElementSendKeys in
// Firefox, whose WebDriver BiDi may not navigate to moz-extension:// pages: radar.test.js,
// verify.test.js), as a person choosing them would:
// - five files (three PDFs: a plain one, one with object streams rewritten by qpdf, one
//   signed by pyHanko before; an XML file; an .ods), PAdES for the PDFs and XAdES jetons for
//   the others: one consent window listing all five, whose origin is the extension's own local
//   name, one PIN; each output fetched from the page's download links and checked by
//   independent tools: pdfsig and pyHanko's validator for the PDFs, xmlsec1 beside the file
//   for the jetons;
// - after each batch, « Tout télécharger (.zip) »: the zip the browser downloads, tested by
//   `unzip -t` and Python's zipfile, each member byte for byte the output downloaded alone
//   (two files of the same name: the second member named « (2) »);
// - CAdES for everything (the PAdES box unticked): each .p7s checked by `openssl cms -verify`;
// - the consent window closed: nothing signed, and the page says so;
// - the certificate checks of the arrêté du 22 mars 2019 (the kit's signing certificates are
//   qualified: no warning), and the warnings themselves at unit level (sign/checks.js).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import * as driver from './driver.js';
import * as lib from './lib.js';
import { launchFirefox, Tabs } from './marionette.js';
import { certificateChecks, worst } from '../../extension/src/sign/checks.js';

const T = { timeout: 300_000 };
const PYHANKO = path.join(lib.ROOT, 'scripts/pyhanko.sh');
const PYHANKO_TOOL = path.join(lib.ROOT, 'formats/tests/pades/pyhanko_tool.py');
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07'; // driver.js
const LOCAL_NAMES = ['fr', 'en'].map((l) => JSON.parse(fs.readFileSync(
  path.join(lib.ROOT, `extension/src/_locales/${l}/messages.json`), 'utf8')).signFilesLocalOrigin.message);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}` };
}

function must(cmd, args) {
  const r = run(cmd, args);
  assert.ok(r.ok, `${cmd} ${args.join(' ')}: ${r.out}`);
}

/** pdfsig: `n` valid signatures, the last over the whole file. */
function pdfsigChecks(file, n) {
  const { out } = run('pdfsig', ['-nocert', file]);
  assert.equal(out.match(/Signature Validation: Signature is Valid\./g)?.length ?? 0, n, `pdfsig ${file}: ${out}`);
  assert.match(out, /Total document signed/, `pdfsig ${file}: ${out}`);
}

/** pyHanko's validator: every signature intact, valid, trusted by the kit's CA; the last covers the file. */
function pyhankoChecks(world, file, n) {
  const { ok, out } = run(PYHANKO, [PYHANKO_TOOL, 'validate', file, path.join(world.kit, 'pki/ca.crt')]);
  assert.ok(ok, `pyHanko rejects ${file}: ${out}`);
  const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.equal(lines.length, n, out);
  assert.equal(lines.at(-1).coverage, 'ENTIRE_FILE', out);
}

/** xmlsec1 --verify of `jeton` in `dir`, beside the file it references by name. */
function xmlsecVerifies(world, dir, jeton) {
  return run('xmlsec1', ['--verify', '--id-attr:Id', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
    '--trusted-pem', path.join(world.kit, 'pki/ca.crt'), jeton], { cwd: dir });
}

/** openssl cms -verify of a detached .p7s over `content`, against the kit's CA. */
function cmsVerifies(world, p7s, content) {
  const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7s, '-content', content,
    '-CAfile', path.join(world.kit, 'pki/ca.crt'), '-purpose', 'any', '-out', '/dev/null']);
  return r.ok && /Verification successful/.test(r.out);
}

/**
 * In the consent window: each listed document as [name, format, format text] (`format`: the
 * span's data-format, `padesVisible` for a visible PAdES signature; the text beside the
 * name: consent/consent.js).
 */
const LISTED = () => [...document.querySelectorAll('#items li')].map((li) => {
  const f = li.querySelector('.format');
  return [li.querySelector('strong').textContent, f?.dataset.visible ? 'padesVisible' : f?.dataset.format ?? null, f?.textContent ?? null];
});
/** The consent window's wording of each format (consentFormat_*), French or English. */
const FORMAT_WORDS = Object.fromEntries(['pades', 'padesVisible', 'xades', 'cades'].map((f) => [f, ['fr', 'en'].map((l) => ` — ${JSON.parse(fs.readFileSync(
  path.join(lib.ROOT, `extension/src/_locales/${l}/messages.json`), 'utf8'))[`consentFormat_${f}`].message}`)]));

/** The consent window lists `expected` ([name, format]) in order, each with its format's words. */
async function listsFormats(consent, expected) {
  const listed = await consent.formats();
  assert.deepEqual(listed.map(([name, format]) => [name, format]), expected, JSON.stringify(listed));
  for (const [name, format, text] of listed) assert.ok(FORMAT_WORDS[format].includes(text), `${name}: ${text}`);
}

// ---- the page and the consent window, per browser ----------------------------------------------
// A session: open() the page, setFiles(paths), click(selector), value(fn, arg) (fn runs in
// the page; a promise is awaited), until(fn) (waits until fn is truthy in the page: a hang
// guard, no timing; resolves to fn's value), consent() → {origin(), items(), confirm(fingerprint, pin), close()}.

async function chromiumSession(world) {
  const browser = await driver.launch('chromium', world);
  const page = await browser.newPage();
  const url = `chrome-extension://${lib.CHROMIUM_ID}/sign/sign.html`;
  return {
    async open() {
      await page.goto(url);
      await page.waitFor('#files');
    },
    setFiles: (files) => page.raw.setInputFiles('#files', files),
    click: (selector) => page.click(selector),
    value: (fn, arg) => page.raw.evaluate(fn, arg),
    until: (fn, arg) => page.raw.waitForFunction(fn, arg, { timeout: 120_000 }).then((h) => h.jsonValue()),
    async consent(action) {
      const p = browser.expectConsent();
      await action();
      const c = await p;
      return {
        origin: () => c.origin(),
        items: () => c.text('#items'),
        formats: () => c.evaluate(LISTED),
        confirm: (fingerprint, pin) => c.confirm(fingerprint, pin),
        close: () => c.close(),
      };
    },
    // The file the browser saves when `action` starts a download (playwright's download event).
    async download(action, sizeOf) {
      void sizeOf; // playwright says when the download is complete
      const p = page.raw.waitForEvent('download', { timeout: 120_000 });
      await action();
      const d = await p;
      return { name: d.suggestedFilename(), bytes: fs.readFileSync(await d.path()) };
    },
    close: () => browser.close(),
  };
}

async function firefoxSession(world) {
  const home = path.join(world.dir, 'home');
  lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
  const ff = await launchFirefox({
    executable: lib.firefoxExecutable(world.dir),
    dir: path.join(world.dir, 'firefox'),
    env: { ...world.env, HOME: home },
    prefs: {
      'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: GECKO_UUID }),
      'browser.download.folderList': 2,
      'browser.download.dir': path.join(world.dir, 'downloads'),
      'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false,
    },
  });
  const m = ff.marionette;
  assert.equal(await m.send('Addon:Install', { path: lib.EXT.firefox, temporary: true }), lib.GECKO_ID);
  const tabs = new Tabs(m, { guard: 120_000 });
  const moz = `moz-extension://${GECKO_UUID}/`;
  let page = null;
  return {
    async open() {
      if (page) await tabs.close(page);
      page = await tabs.open(`${moz}sign/sign.html`);
      await tabs.waitFor(page, () => !!document.getElementById('files'));
    },
    setFiles: (files) => tabs.serial(async () => {
      await tabs.switchTo(page.handle);
      await tabs.setContext('content');
      const ref = Object.values(await m.send('WebDriver:FindElement', { using: 'css selector', value: '#files' }))[0];
      for (const f of files) await m.send('WebDriver:ElementSendKeys', { id: ref, text: f });
    }),
    click: (selector) => tabs.click(page, selector),
    value: (fn, arg) => tabs.eval(page, fn, arg),
    until: (fn, arg) => tabs.waitFor(page, fn, arg),
    async consent(action) {
      const known = new Set(await tabs.handles());
      await action();
      const c = await tabs.appeared(known, `${moz}consent/`);
      await tabs.waitFor(c, () => document.getElementById('main').hidden === false);
      const text = (selector) => tabs.eval(c, (s) => document.querySelector(s).textContent, selector);
      return {
        origin: () => text('#origin'),
        items: () => text('#items'),
        formats: () => tabs.eval(c, LISTED),
        async confirm(fingerprint, pin) {
          await tabs.click(c, `input[name=certificate][value="${fingerprint}"]`);
          await tabs.type(c, '#pin', pin);
          // The buttons answer 750 ms after the window shows (consent/consent.js): wait for them.
          await tabs.waitFor(c, () => document.getElementById('confirm').disabled === false);
          await tabs.clickClosing(c, '#confirm');
        },
        close: () => tabs.close(c),
      };
    },
    // The file Firefox saves in the download folder (prefs above) when `action` starts a
    // download: the new file there, once complete: no `.part` beside it (Firefox writes there
    // first, the final name being an empty placeholder meanwhile) and of the size the page says
    // (`sizeOf()`). The loop is a hang guard: it ends on that state, not on the clock.
    async download(action, sizeOf) {
      const folder = path.join(world.dir, 'downloads');
      const known = new Set(fs.readdirSync(folder));
      await action();
      const size = await sizeOf();
      const deadline = Date.now() + 120_000;
      for (;;) {
        const name = fs.readdirSync(folder).find((n) => !known.has(n) && !n.endsWith('.part'));
        const file = name && path.join(folder, name);
        if (file && !fs.existsSync(`${file}.part`) && fs.statSync(file).size === size) return { name, bytes: fs.readFileSync(file) };
        assert.ok(Date.now() < deadline, 'no download');
        await new Promise((r) => { setTimeout(r, 100); });
      }
    },
    close: () => ff.quit(),
  };
}

/** In the page: each output of `data-result`, fetched from its blob URL, as base64. */
async function outputs(session) {
  return session.value(async () => {
    const list = JSON.parse(document.body.dataset.result);
    return Promise.all(list.map(async (o) => {
      const bytes = new Uint8Array(await (await fetch(o.url)).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const link = document.querySelector(`#outputs a[data-index="${list.indexOf(o)}"]`);
      return { ...o, base64: btoa(s), download: link?.getAttribute('download') ?? null };
    }));
  });
}

/**
 * « Tout télécharger (.zip) »: the zip the browser downloads, checked by `unzip -t` and Python's zipfile (testzip, UTF-8 names, stored members),
 * each member byte for byte the output downloaded alone (`out`, from `outputs`), in order.
 */
async function zipChecks(session, world, out, names = out.map((o) => o.name)) {
  assert.equal(await session.value(() => document.getElementById('zip-row').hidden), false, 'the zip is offered');
  let made = null;
  const { name, bytes } = await session.download(() => session.click('#zip'), async () => {
    const zip = await session.until(() => document.body.dataset.zip
      || (document.body.dataset.zipError && `failed: ${document.body.dataset.zipError}`));
    assert.ok(!zip.startsWith('failed'), `the zip: ${zip}`);
    made = JSON.parse(zip);
    return made.size;
  });
  made ??= JSON.parse(await session.until(() => document.body.dataset.zip));
  assert.match(made.name, /\.zip$/);
  assert.ok(name.startsWith(made.name.replace(/\.zip$/, '')) && name.endsWith('.zip'), `downloaded as ${name}`);
  assert.equal(bytes.length, made.size);
  const dir = fs.mkdtempSync(path.join(world.dir, 'zip-'));
  const zip = path.join(dir, made.name);
  fs.writeFileSync(zip, bytes);
  const t = run('unzip', ['-t', zip], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  assert.ok(t.ok && /No errors detected/.test(t.out), `unzip -t: ${t.out}`);
  const extracted = path.join(dir, 'out');
  fs.mkdirSync(extracted);
  const py = run('python3', ['-c', `
import json, os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
out = []
for k, i in enumerate(z.infolist()):
    open(os.path.join(sys.argv[2], str(k)), "wb").write(z.read(i))
    out.append([i.filename, i.compress_type, bool(i.flag_bits & 0x800)])
print(json.dumps(out))`, zip, extracted]);
  assert.ok(py.ok, `python3 zipfile: ${py.out}`);
  const members = JSON.parse(py.out);
  assert.deepEqual(members.map(([name]) => name), names, 'one member per output, named as its download, in order');
  assert.deepEqual(made.members, names);
  for (const [k, [name, method, utf8]] of members.entries()) {
    assert.equal(method, 0, `${name}: stored`);
    assert.equal(utf8, true, `${name}: UTF-8 name flag`);
    assert.ok(fs.readFileSync(path.join(extracted, String(k))).equals(Buffer.from(out[k].base64, 'base64')),
      `${name}: byte for byte the file downloaded alone`);
  }
  return bytes;
}

test('the background starts the core (pkg/paraphe_wasm) only, ≤ 200 KB gzip, and the signing module on first use; the frame, « Ouvrir un pli » and this page the files module only', () => {
  // The module graphs as built (dist/: pkg/ beside the pages), from their static imports, as
  // verify.test.js does for the verify page: the core every start of the background loads
  // must not carry the PDF reader nor the zip, nor the certificate display, the formats and
  // LiberSign (issue 18: those are the signing module's, which background/core.js
  // instantiates in `signing()` only), and the pages that read files load one module,
  // pkg/paraphe_files (files-wasm/), through common/files-module.js.
  const root = lib.EXT.chromium;
  const graph = (entry) => {
    const seen = new Set();
    const walk = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^import\b[^'"]*['"](\.[^'"]+)['"]/gm)) {
        walk(path.resolve(path.dirname(file), m[1]));
      }
    };
    walk(path.join(root, entry));
    return [...seen].map((f) => path.relative(root, f)).filter((f) => f.startsWith('pkg/'));
  };
  assert.deepEqual(graph('background/background.js').sort(), ['pkg/paraphe_signing.js', 'pkg/paraphe_wasm.js']);
  for (const page of ['frame/frame.js', 'pli/pli.js', 'pli/hash-worker.js', 'sign/sign.js']) {
    assert.deepEqual(graph(page), ['pkg/paraphe_files.js'], page);
  }
  const core = fs.readFileSync(path.join(root, 'pkg/paraphe_wasm.js'), 'utf8');
  assert.doesNotMatch(core, /class (PdfInput|ZipArchive|Crc32)\b|pades_prepare/);
  assert.doesNotMatch(core, /export function (certificate_|format_|libersign_)/, 'the signing module\'s exports');
  const signing = fs.readFileSync(path.join(root, 'pkg/paraphe_signing.js'), 'utf8');
  for (const name of ['certificate_choices', 'certificate_spki', 'format_prepare', 'format_finish', 'libersign_plan']) {
    assert.match(signing, new RegExp(`export function ${name}\\(`), name);
  }
  // At the start of the background, only the core is instantiated: the one top-level `init(`
  // of core.js is the core's, and the signing module's `initSigning(` is inside `signing()`.
  const coreJs = fs.readFileSync(path.join(root, 'background/core.js'), 'utf8');
  assert.deepEqual([...coreJs.matchAll(/^export const ready = init\(\{ module_or_path: api\.runtime\.getURL\('([^']+)'\) \}\);$/gm)].map((m) => m[1]),
    ['pkg/paraphe_wasm_bg.wasm']);
  assert.deepEqual([...coreJs.matchAll(/initSigning\(/g)].length, 1);
  assert.match(coreJs, /^export function signing\(\) \{\n  signingReady \?\?= initSigning\(\{ module_or_path: api\.runtime\.getURL\('pkg\/paraphe_signing_bg\.wasm'\) \}\)/m);
  // The size goal (issue 18): the module every start of the background compiles, gzip -9.
  const bytes = zlib.gzipSync(fs.readFileSync(path.join(root, 'pkg/paraphe_wasm_bg.wasm')), { level: 9 }).length;
  assert.ok(bytes <= 200_000, `the core is ${bytes} bytes gzip -9, more than 200 000`);
});

test('certificate checks (arrêté du 22 mars 2019): warnings and errors from the core\'s facts', () => {
  const base = { expired: false, notYetValid: false, usages: ['signing'], qualified: true, rgsLevel: null };
  assert.equal(worst(certificateChecks(base)), 'ok');
  assert.equal(worst(certificateChecks({ ...base, qualified: false, rgsLevel: '**' })), 'ok');
  assert.equal(worst(certificateChecks({ ...base, qualified: false, rgsLevel: '***' })), 'ok');
  const level = (c) => certificateChecks(c).find((x) => x.id === 'level');
  assert.deepEqual(level({ ...base, qualified: false, rgsLevel: '*' }), { id: 'level', level: 'warning', detail: 'rgs1' });
  assert.deepEqual(level({ ...base, qualified: false, rgsLevel: null }), { id: 'level', level: 'warning', detail: 'unknown' });
  const dates = (c) => certificateChecks(c).find((x) => x.id === 'dates');
  assert.deepEqual(dates({ ...base, expired: true }), { id: 'dates', level: 'error', detail: 'expired' });
  assert.deepEqual(dates({ ...base, notYetValid: true }), { id: 'dates', level: 'error', detail: 'notYetValid' });
  assert.equal(certificateChecks({ ...base, usages: ['authentication'] }).find((x) => x.id === 'usage').level, 'error');
  assert.equal(worst(certificateChecks({ ...base, usages: [] })), 'error');
});

for (const kind of driver.browsers()) {
  describe(`${kind}: « Signer des fichiers »`, () => {
    let world;
    let session;
    let dir;
    const files = {};
    before(async () => {
      lib.checkPrerequisites();
      world = lib.makeWorld(`sign-files-${kind}`);
      dir = path.join(world.dir, 'files');
      fs.mkdirSync(dir);
      fs.mkdirSync(path.join(world.dir, 'downloads'));
      const at = (name) => path.join(dir, name);
      fs.writeFileSync(at('Offre technique.pdf'), lib.simplePdf(1, 'Offre'));
      const plain = path.join(world.dir, 'plain.pdf');
      fs.writeFileSync(plain, lib.simplePdf(2, 'Offre'));
      must('qpdf', ['--object-streams=generate', plain, at('objets compressés.pdf')]);
      fs.writeFileSync(plain, lib.simplePdf(3, 'Offre'));
      must(PYHANKO, [PYHANKO_TOOL, 'sign', plain, at('déjà signé.pdf'),
        path.join(world.kit, 'pki/01.key'), path.join(world.kit, 'pki/01.crt')]);
      fs.writeFileSync(at('DC1.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<candidature><nom>Entreprise Exemple</nom></candidature>\n');
      fs.writeFileSync(at('annexe financière.ods'), randomBytes(7000));
      Object.assign(files, {
        pdfs: { 'Offre technique.pdf': 0, 'objets compressés.pdf': 0, 'déjà signé.pdf': 1 }, // signatures before
        others: ['DC1.xml', 'annexe financière.ods'],
      });
      session = kind === 'chromium' ? await chromiumSession(world) : await firefoxSession(world);
    });
    after(async () => {
      await session?.close();
      if (!process.env.PARAPHE_KEEP_TEST_DIR) world?.cleanup();
    });

    const all = () => [...Object.keys(files.pdfs), ...files.others];
    const choose = async (names) => {
      await session.open();
      await session.setFiles(names.map((n) => path.join(dir, n)));
      await session.until((n) => document.querySelectorAll('#list li').length === n, names.length);
    };

    test('the signing certificates are shown with the arrêté\'s checks (qualified: no warning)', T, async () => {
      await session.open();
      const shown = JSON.parse(await session.until(() => document.body.dataset.certificates));
      assert.deepEqual(shown.map((c) => c.fingerprint).sort(), [world.fingerprint('01'), world.fingerprint('04')].sort());
      for (const c of shown) {
        assert.deepEqual(c.checks.map((x) => [x.id, x.level]), [['dates', 'ok'], ['usage', 'ok'], ['level', 'ok']], JSON.stringify(c));
        assert.equal(c.checks.find((x) => x.id === 'level').detail, 'qualified');
      }
    });

    test('five files (3 PDFs in PAdES, visible, 2 XAdES jetons): one consent listing them all, one PIN, each output verified', T, async () => {
      await choose(all());
      await session.click('#visible'); // « Signature visible »: a box on each PDF's last page
      const consent = await session.consent(() => session.click('#sign'));
      assert.ok(LOCAL_NAMES.includes(await consent.origin()), await consent.origin());
      const items = await consent.items();
      for (const name of all()) assert.ok(items.includes(name), `${name} listed in the consent window: ${items}`);
      // Each file with the format it gets: the PDFs in PAdES first (the first request), then the jetons.
      await listsFormats(consent, [...Object.keys(files.pdfs).map((n) => [n, 'padesVisible']), ...files.others.map((n) => [n, 'xades'])]);
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      await session.until(() => document.body.dataset.result || document.body.dataset.error);
      assert.equal(await session.value(() => document.body.dataset.error ?? null), null, await session.value(() => document.getElementById('status').textContent));
      const out = await outputs(session);
      assert.equal(out.length, 5);
      const signed = fs.mkdtempSync(path.join(world.dir, 'signed-'));
      for (const [name, before] of Object.entries(files.pdfs)) {
        const o = out.find((x) => x.format === 'pades' && x.name.startsWith(name.replace(/\.pdf$/, '')));
        assert.ok(o, `${name}: a signed PDF (${out.map((x) => x.name)})`);
        assert.equal(o.download, o.name);
        const bytes = Buffer.from(o.base64, 'base64');
        const original = fs.readFileSync(path.join(dir, name));
        assert.ok(bytes.subarray(0, original.length).equals(original), `${name}: an incremental update of the file`);
        const file = path.join(signed, o.name);
        fs.writeFileSync(file, bytes);
        pdfsigChecks(file, before + 1);
        pyhankoChecks(world, file, before + 1);
        // The visible signature, as poppler reads the last page (lib.simplePdf: two pages), not the first.
        const text = run('pdftotext', ['-f', '2', '-l', '2', '-enc', 'UTF-8', file, '-']).out;
        assert.match(text, /Signé par Camille Martin/, `${o.name}: ${text}`);
        assert.match(text, /Paraphe/, `${o.name}: ${text}`);
        assert.doesNotMatch(run('pdftotext', ['-f', '1', '-l', '1', '-enc', 'UTF-8', file, '-']).out, /Signé par/);
      }
      for (const name of files.others) {
        const o = out.find((x) => x.name === `${name}.xml`);
        assert.ok(o, `${name}: a jeton (${out.map((x) => x.name)})`);
        assert.equal(o.format, 'xades');
        const jetons = fs.mkdtempSync(path.join(world.dir, 'jeton-'));
        fs.copyFileSync(path.join(dir, name), path.join(jetons, name));
        fs.writeFileSync(path.join(jetons, o.name), Buffer.from(o.base64, 'base64'));
        const { ok, out: why } = xmlsecVerifies(world, jetons, o.name);
        assert.ok(ok, `xmlsec1 --verify ${o.name}: ${why}`);
        fs.appendFileSync(path.join(jetons, name), 'x');
        assert.ok(!xmlsecVerifies(world, jetons, o.name).ok, `${o.name}: a changed file fails`);
      }
      // « Tout télécharger (.zip) »: every output in one zip, each member the download itself.
      await zipChecks(session, world, out);
    });

    test('CAdES for every file (PAdES unticked): each .p7s verified by openssl cms', T, async () => {
      const names = ['Offre technique.pdf', ...files.others];
      await choose(names);
      await session.click('#pades'); // unticked: the PDF gets a .p7s too
      await session.click('input[name=format][value=cades]');
      const consent = await session.consent(() => session.click('#sign'));
      await listsFormats(consent, names.map((n) => [n, 'cades']));
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      await session.until(() => document.body.dataset.result || document.body.dataset.error);
      assert.equal(await session.value(() => document.body.dataset.error ?? null), null, await session.value(() => document.getElementById('status').textContent));
      const out = await outputs(session);
      assert.deepEqual(out.map((o) => [o.name, o.format]), names.map((n) => [`${n}.p7s`, 'cades']));
      for (const [i, o] of out.entries()) {
        const p7s = path.join(world.dir, `${i}.p7s`);
        fs.writeFileSync(p7s, Buffer.from(o.base64, 'base64'));
        assert.ok(cmsVerifies(world, p7s, path.join(dir, names[i])), `openssl cms -verify ${o.name}`);
        const changed = path.join(world.dir, `${i}.changed`);
        fs.writeFileSync(changed, Buffer.concat([fs.readFileSync(path.join(dir, names[i])), Buffer.from('x')]));
        assert.ok(!cmsVerifies(world, p7s, changed), `${o.name}: a changed file fails`);
      }
      await zipChecks(session, world, out);
    });

    test('two files of the same name (from two folders): the zip names the second « (2) »', T, async () => {
      const other = path.join(world.dir, 'autre dossier');
      fs.mkdirSync(other, { recursive: true });
      fs.writeFileSync(path.join(other, 'DC1.xml'), '<candidature><nom>Autre</nom></candidature>\n');
      await session.open();
      await session.setFiles([path.join(dir, 'DC1.xml'), path.join(other, 'DC1.xml')]);
      await session.until(() => document.querySelectorAll('#list li').length === 2);
      await session.click('input[name=format][value=cades]');
      const consent = await session.consent(() => session.click('#sign'));
      await consent.confirm(world.fingerprint('01'), lib.PIN);
      await session.until(() => document.body.dataset.result || document.body.dataset.error);
      assert.equal(await session.value(() => document.body.dataset.error ?? null), null);
      const out = await outputs(session);
      assert.deepEqual(out.map((o) => o.name), ['DC1.xml.p7s', 'DC1.xml.p7s']);
      await zipChecks(session, world, out, ['DC1.xml.p7s', 'DC1.xml (2).p7s']);
    });

    test('the consent window closed: nothing is signed, and the page says so', T, async () => {
      await choose(all());
      const consent = await session.consent(() => session.click('#sign'));
      await consent.close();
      await session.until(() => document.body.dataset.result || document.body.dataset.error);
      assert.equal(await session.value(() => document.body.dataset.error), 'USER_CANCELLED');
      assert.equal(await session.value(() => document.body.dataset.result ?? null), null);
      assert.equal(await session.value(() => document.querySelectorAll('#outputs li').length), 0);
      assert.equal(await session.value(() => document.getElementById('zip-row').hidden), true, 'no zip of nothing');
      assert.equal(await session.value(() => document.body.dataset.signed), '0');
      const text = await session.value(() => document.getElementById('status').textContent);
      assert.match(text, /Rien n'a été signé|Nothing was signed/, text);
      // The page works again afterwards: the button is back.
      assert.equal(await session.value(() => document.getElementById('sign').disabled), false);
    });
  });
}
