// End to end against an INSTALLED host (installers/test.sh runs it): no host manifest is written
// into the throw-away profile; Chromium must find the one the installer wrote, start the binary
// it names, and sign. Modes (PARAPHE_INSTALLED):
//   system  the .deb/.rpm: /etc/chromium/native-messaging-hosts/fr.paraphe.host.json
//   user    installers/linux/install.sh into PARAPHE_INSTALLED_HOME: Chromium reads
//           <user-data-dir>/NativeMessagingHosts, so the profile's folder is a symlink to the
//           installed ~/.config/chromium/NativeMessagingHosts; Firefox reads
//           $HOME/.mozilla/native-messaging-hosts, so it runs with a HOME whose folder is a
//           symlink to the installed one (the browsers never write into the installed HOME,
//           which must be left exactly as the installer made it).
// Firefox: system mode reads /usr/lib/mozilla/native-messaging-hosts and, for managed
// storage, /etc/firefox/policies/policies.json.
// PARAPHE_HOST_BIN is the installed binary the manifest must name and the browser must start.
// PARAPHE_EXPECT_MANAGED (JSON, system mode): the extension's chrome.storage.managed must equal it.
// PARAPHE_EXT_CHROMIUM: another unpacked Chromium build of the extension.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import * as lib from './lib.js';

const MODE = process.env.PARAPHE_INSTALLED;
const EXT = process.env.PARAPHE_EXT_CHROMIUM ?? lib.EXT.chromium;
const EXECUTABLE = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
const SYSTEM_MANIFEST = '/etc/chromium/native-messaging-hosts/fr.paraphe.host.json';
const FIREFOX_SYSTEM_MANIFEST = '/usr/lib/mozilla/native-messaging-hosts/fr.paraphe.host.json';
const FIREFOX = lib.FIREFOX;
const FIREFOX_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';
const T = { timeout: 60_000 };

/** The manifest the browser will read in this mode. */
function installedManifest() {
  if (MODE === 'system') return SYSTEM_MANIFEST;
  const home = process.env.PARAPHE_INSTALLED_HOME;
  assert.ok(home, 'PARAPHE_INSTALLED_HOME is required with PARAPHE_INSTALLED=user');
  return path.join(home, '.config/chromium/NativeMessagingHosts/fr.paraphe.host.json');
}

/** Host processes started for our extension (its id is among their arguments): [{pid, exe}]. */
function runningHosts(extensionArg = `chrome-extension://${lib.CHROMIUM_ID}/`) {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline.includes(extensionArg)) continue;
      out.push({ pid, exe: fs.readlinkSync(`/proc/${pid}/exe`) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

describe(`installed host (${MODE ?? 'PARAPHE_INSTALLED unset'})`, { skip: MODE ? false : 'PARAPHE_INSTALLED is not set: run installers/test.sh' }, () => {
  let world;
  let server;
  let context;

  before(async () => {
    assert.ok(['system', 'user'].includes(MODE), `PARAPHE_INSTALLED must be system or user, not ${MODE}`);
    assert.ok(fs.existsSync(path.join(EXT, 'manifest.json')), `no extension build at ${EXT}`);
    // Exactly one registration, the installed one.
    const manifest = installedManifest();
    assert.ok(fs.existsSync(manifest), `no installed manifest at ${manifest}`);
    if (MODE === 'user') assert.ok(!fs.existsSync(SYSTEM_MANIFEST), `${SYSTEM_MANIFEST} exists: the test would not tell which one the browser used`);
    world = lib.makeWorld(`installed-${MODE}`);
    server = await lib.startServer();
    const userDataDir = path.join(world.dir, 'profile');
    fs.mkdirSync(userDataDir);
    if (MODE === 'user') fs.symlinkSync(path.dirname(manifest), path.join(userDataDir, 'NativeMessagingHosts'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: EXECUTABLE,
      headless: true,
      env: { ...world.env, HOME: world.dir },
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        `--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`,
      ],
    });
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  const worker = async () => {
    const isOurs = (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`);
    return context.serviceWorkers().find(isOurs)
      ?? context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 10_000 });
  };

  test('the installed manifest names the installed binary and allows only our extension', () => {
    const m = JSON.parse(fs.readFileSync(installedManifest(), 'utf8'));
    assert.equal(m.name, 'fr.paraphe.host');
    assert.equal(m.path, lib.HOST_BIN);
    assert.deepEqual(m.allowed_origins, [`chrome-extension://${lib.CHROMIUM_ID}/`]);
  });

  // The policies are system-wide: only the packages set them.
  if (MODE === 'system') test('managed storage from the installed policy', async () => {
    assert.ok(process.env.PARAPHE_EXPECT_MANAGED, 'PARAPHE_EXPECT_MANAGED is required with PARAPHE_INSTALLED=system');
    const sw = await worker();
    const managed = await sw.evaluate(() => chrome.storage.managed.get());
    assert.deepEqual(managed, JSON.parse(process.env.PARAPHE_EXPECT_MANAGED));
  });

  test('signs a digest through the installed host; openssl verifies; the installed binary ran', T, async () => {
    await worker(); // the extension is up
    await lib.storeChromium(context, { allowLoopbackHttp: true });
    const doc = lib.document(world.dir);
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/sign.html`);
    await page.waitForFunction(() => window.parapheLoaded);
    const consentP = context.waitForEvent('page', {
      predicate: (p) => p.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/consent/`),
      timeout: 20_000,
    });
    const answer = page.evaluate(async (hash) => {
      try {
        return { result: await window.paraphe.signHash({ hash, hashAlgorithm: 'sha256', name: 'installed.pdf' }) };
      } catch (e) {
        return { error: { code: e.code, message: e.message } };
      }
    }, doc.hex);
    const consent = await consentP;
    await consent.waitForSelector('#main:not([hidden])');
    await consent.check(`input[name=certificate][value="${world.fingerprint('01')}"]`);
    await consent.fill('#pin', lib.PIN);
    await consent.click('#confirm');
    const { result, error } = await answer;
    assert.equal(error, undefined, `${JSON.stringify(error)}\nhost log:\n${lib.hostLog(world)}`);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature), 'openssl verifies');
    // The port stays open after a request: the host process is still there to look at.
    const hosts = runningHosts();
    assert.ok(hosts.some((h) => h.exe === lib.HOST_BIN), `no host process running ${lib.HOST_BIN}: ${JSON.stringify(hosts)}`);
    await page.close();
  });

});

describe(`installed host, Firefox (${MODE ?? 'PARAPHE_INSTALLED unset'})`, { skip: MODE ? false : 'PARAPHE_INSTALLED is not set: run installers/test.sh' }, () => {
  let world;
  let server;
  let browser;

  const manifest = () => (MODE === 'system' ? FIREFOX_SYSTEM_MANIFEST
    : path.join(process.env.PARAPHE_INSTALLED_HOME, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));

  before(async () => {
    assert.ok(fs.existsSync(manifest()), `no installed manifest at ${manifest()}`);
    if (MODE === 'user') assert.ok(!fs.existsSync(FIREFOX_SYSTEM_MANIFEST), `${FIREFOX_SYSTEM_MANIFEST} exists: the test would not tell which one Firefox used`);
    world = lib.makeWorld(`installed-firefox-${MODE}`);
    server = await lib.startServer(world.dir);
    const home = path.join(world.dir, 'home');
    fs.mkdirSync(path.join(home, '.mozilla'), { recursive: true });
    if (MODE === 'user') fs.symlinkSync(path.dirname(manifest()), path.join(home, '.mozilla/native-messaging-hosts'));
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      acceptInsecureCerts: true,
      env: { ...world.env, HOME: home },
      extraPrefsFirefox: { 'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: FIREFOX_UUID }) },
    });
    assert.equal(await browser.installExtension(lib.EXT.firefox), lib.GECKO_ID);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  test('the installed manifest names the installed binary and allows only our extension', () => {
    const m = JSON.parse(fs.readFileSync(manifest(), 'utf8'));
    assert.equal(m.path, lib.HOST_BIN);
    assert.deepEqual(m.allowed_extensions, [lib.GECKO_ID]);
  });

  // Managed storage is read in the consent window (an extension page: WebDriver BiDi cannot
  // open moz-extension:// pages itself), in system mode, from /etc/firefox/policies/policies.json.
  const title = MODE === 'system'
    ? 'signs over https through the installed host; openssl verifies; the installed binary ran; managed storage from policies.json'
    : 'signs over https through the installed host; openssl verifies; the installed binary ran';
  test(title, T, async () => {
    if (MODE === 'system') assert.ok(process.env.PARAPHE_EXPECT_MANAGED, 'PARAPHE_EXPECT_MANAGED is required with PARAPHE_INSTALLED=system');
    const doc = lib.document(world.dir);
    const page = await browser.newPage();
    await page.goto(`${server.origin}/sign.html`);
    await page.waitForFunction(() => window.parapheLoaded);
    const known = new Set(await browser.pages());
    const answer = page.evaluate(async (hash) => {
      try {
        return { result: await window.paraphe.signHash({ hash, hashAlgorithm: 'sha256', name: 'installed.pdf' }) };
      } catch (e) {
        return { error: { code: e.code, message: e.message } };
      }
    }, doc.hex);
    let consent;
    for (const deadline = Date.now() + 20_000; !consent && Date.now() < deadline;) {
      for (const p of await browser.pages()) {
        if (known.has(p)) continue;
        const href = await p.evaluate(() => location.href).catch(() => '');
        if (href.startsWith(`moz-extension://${FIREFOX_UUID}/consent/`)) consent = p;
      }
      if (!consent) await new Promise((r) => setTimeout(r, 150));
    }
    assert.ok(consent, 'no consent window');
    await consent.waitForSelector('#main:not([hidden])');
    if (MODE === 'system') {
      const managed = await consent.evaluate(() => browser.storage.managed.get());
      assert.deepEqual(managed, JSON.parse(process.env.PARAPHE_EXPECT_MANAGED), 'managed storage');
    }
    await consent.click(`input[name=certificate][value="${world.fingerprint('01')}"]`);
    await consent.type('#pin', lib.PIN);
    await consent.waitForSelector('#confirm:not([disabled])'); // 750 ms after it shows
    await consent.click('#confirm');
    const { result, error } = await answer;
    assert.equal(error, undefined, `${JSON.stringify(error)}\nhost log:\n${lib.hostLog(world)}`);
    assert.ok(lib.opensslVerifies(world, '01', doc.file, result.signatures[0].signature), 'openssl verifies');
    const hosts = runningHosts(lib.GECKO_ID);
    assert.ok(hosts.some((h) => h.exe === lib.HOST_BIN), `no host process running ${lib.HOST_BIN}: ${JSON.stringify(hosts)}`);
    await page.close();
  });
});
