// TLS client authentication in headless Firefox ESR (issue 7): a portal that requires a
// client certificate (node https, requestCert + rejectUnauthorized, CA = the test kit's)
// gets the SoftHSM token's authentication certificate, once the extension has installed the
// token's module through browser.pkcs11.installModule, from the PKCS#11 manifest that
// manifests/generate.sh writes (as the installers do). The path is the radar's (docs/RADAR.md):
// the failed handshake is found, the popup names the token's authentication certificate,
// « Préparer le navigateur » installs the module, « Réessayer » logs in; the options page then
// shows the module installed. The same path against the real nginx (`ssl_verify_client on`,
// tests/browser/nginx.js), which does not end the handshake but answers HTTP 400 « No required
// SSL certificate was sent »: the radar finds that page, and after « Préparer le navigateur »
// and « Réessayer » nginx gets the token's authentication certificate.
//
// Firefox asks for the token's PIN in its own « security device » dialog, which no page
// script can reach: Firefox runs under Marionette (tests/browser/marionette.js), whose
// privileged (chrome) context fills that dialog as a person typing the PIN would, and
// installs the extension as a temporary add-on. `security.default_personal_cert` =
// "Select Automatically" stands for the person choosing the certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as lib from './lib.js';
import { launchFirefox } from './marionette.js';
import { startNginx } from './nginx.js';

const UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';
const OPTIONS = `moz-extension://${UUID}/options/options.html`;
const POPUP = `moz-extension://${UUID}/popup/popup.html`;
const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so'; // the module of lib.makeWorld's host config
const T = { timeout: 120_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const GENERATE = path.join(lib.ROOT, 'manifests/generate.sh');

/** The portal: answers only clients with a certificate from the kit's CA, and shows it. */
async function startPortal(world) {
  const tls = lib.tlsFor(world.dir);
  const server = https.createServer({
    ...tls,
    ca: fs.readFileSync(path.join(world.kit, 'pki/ca.crt')),
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const c = req.socket.getPeerCertificate();
    const esc = (s) => String(s ?? '').replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
    const subject = Object.entries(c.subject ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><p id="authorized">${req.socket.authorized}</p><p id="subject">${esc(subject)}</p>`
      + `<p id="fingerprint">${esc(c.fingerprint256)}</p>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

// Chrome context: fill Firefox's PIN dialog for `label` when it opens (counted in a pref).
const FILL_PIN_DIALOG = `
  const [pin, label] = arguments;
  Services.prefs.setIntPref('paraphe.test.pinDialogs', 0);
  Services.obs.addObserver((win) => {
    const doc = win.document;
    if (!doc.getElementById('infoBody')?.textContent.includes(label)) return;
    const field = doc.getElementById('password1Textbox');
    if (!field) return;
    field.value = pin;
    Services.prefs.setIntPref('paraphe.test.pinDialogs', Services.prefs.getIntPref('paraphe.test.pinDialogs') + 1);
    doc.getElementById('commonDialog').acceptDialog();
  }, 'common-dialog-loaded');`;

/** Opens `url` in the current tab from the chrome context (Marionette may not navigate to moz-extension:). */
async function open(m, url) {
  await m.execute('chrome', 'openTrustedLinkIn(arguments[0], "current")', [url]);
  await m.send('Marionette:SetContext', { value: 'content' });
}

/** Polls `script` in the page until it returns a truthy value. */
async function until(m, script, what, timeout = 60_000) { // a hang guard, not a time limit
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await m.execute('content', script).catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

/**
 * Firefox on a fresh profile, with the host's manifest, the token's PKCS#11 manifest (from
 * the installers' generator: the module Firefox may install) and the extension.
 */
async function launch(world) {
  const home = path.join(world.dir, 'home');
  lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
  const moduleName = execFileSync('sh', [GENERATE, 'pkcs11-name', SOFTHSM], { encoding: 'utf8' }).trim();
  const manifest = execFileSync('sh', [GENERATE, 'pkcs11', SOFTHSM, 'SoftHSM 2'], { encoding: 'utf8' });
  fs.mkdirSync(path.join(home, '.mozilla/pkcs11-modules'), { recursive: true });
  fs.writeFileSync(path.join(home, `.mozilla/pkcs11-modules/${moduleName}.json`), manifest);
  const ff = await launchFirefox({
    executable: lib.firefoxExecutable(world.dir),
    dir: path.join(world.dir, 'firefox'),
    env: { ...world.env, HOME: home },
    prefs: {
      'security.default_personal_cert': 'Select Automatically',
      'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: UUID }),
    },
    capabilities: { acceptInsecureCerts: true, pageLoadStrategy: 'none' },
  });
  try {
    const id = await ff.marionette.send('Addon:Install', { path: lib.EXT.firefox, temporary: true });
    assert.equal(id, lib.GECKO_ID);
  } catch (e) {
    await ff.quit();
    throw e;
  }
  return { ff, moduleName };
}

describe('TLS client authentication in Firefox (browser.pkcs11, SoftHSM)', () => {
  let world;
  let portal;
  let ff;
  let m;
  let moduleName;

  before(async () => {
    lib.checkPrerequisites();
    world = lib.makeWorld('tls');
    portal = await startPortal(world);
    ({ ff, moduleName } = await launch(world));
    m = ff.marionette;
  });

  after(async () => {
    await ff?.quit();
    await portal?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  test('without the module, the portal gets no client certificate and refuses the connection', T, async () => {
    await m.send('Marionette:SetContext', { value: 'content' });
    await m.send('WebDriver:Navigate', { url: portal.url });
    // Error pages run no WebDriver scripts: ask the browser which document the tab shows.
    let where = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(150)) {
      where = String(await m.execute('chrome', 'return gBrowser.selectedBrowser.documentURI?.spec') ?? '');
      if (where.startsWith('about:neterror') || where === portal.url) break;
    }
    assert.match(where, /^about:neterror/, `the portal answered without a client certificate: ${where}`);
  });

  test('the radar found the failure; its popup installs the token\'s module through browser.pkcs11', T, async () => {
    // The popup, opened in the tab that failed (an extension page: no new finding, same tab id).
    await open(m, POPUP);
    const finding = 'document.querySelector(\'#radar-findings li[data-kind="tls"]\')';
    await until(m, `return !document.getElementById('radar-section').hidden && ${finding}`, 'the TLS finding in the popup');
    assert.equal(await m.execute('content', `return ${finding}.dataset.status`), 'tls');
    assert.match(await m.execute('content', `return ${finding}.textContent`), /Camille Martin/, 'the token\'s authentication certificate');
    assert.equal(await m.execute('content', 'return browser.pkcs11.isModuleInstalled(arguments[0])', [moduleName]), false);
    await m.execute('content', 'document.getElementById("radar-tls-setup").click()');
    await until(m, 'return browser.pkcs11.isModuleInstalled(arguments[0])'.replace('arguments[0]', JSON.stringify(moduleName)),
      'the module installed');
    await until(m, 'return !document.getElementById("radar-state").hidden', 'the popup to say so');
    const slots = await m.execute('content', 'return browser.pkcs11.getModuleSlots(arguments[0])', [moduleName]);
    assert.ok(slots.some((s) => s.token?.name === 'Paraphe Demo'), JSON.stringify(slots));
  });

  test('« Réessayer »: the portal gets the token\'s authentication certificate (PIN typed in Firefox\'s dialog)', T, async () => {
    await m.execute('chrome', FILL_PIN_DIALOG, [lib.PIN, 'Paraphe Demo']);
    await m.execute('content', 'document.getElementById("radar-retry").click()');
    await m.send('Marionette:SetContext', { value: 'content' });
    const subject = await until(m, 'return document.getElementById("subject")?.textContent', 'the portal\'s page');
    assert.equal(await m.execute('content', 'return document.getElementById("authorized").textContent'), 'true');
    assert.match(subject, /CN=Camille Martin/);
    assert.match(subject, /O=Mairie de Testville/);
    const fingerprint = (await m.execute('content', 'return document.getElementById("fingerprint").textContent'))
      .replaceAll(':', '').toLowerCase();
    assert.equal(fingerprint, world.fingerprint('02'), 'not the token\'s authentication certificate (CKA_ID 02)');
    assert.equal(await m.execute('chrome', 'return Services.prefs.getIntPref("paraphe.test.pinDialogs")'), 1,
      'Firefox should have asked for the token\'s PIN once');
  });

  test('the options page shows the module installed', T, async () => {
    await open(m, OPTIONS);
    const row = `document.querySelector('#tls-modules li[data-module="${moduleName}"]')`;
    const state = await until(m, `return document.getElementById('tls-install').disabled && ${row}?.textContent`,
      'the page to show the module installed');
    assert.match(state, new RegExp(`${SOFTHSM} — (installed|installé)$`));
  });


});

describe('TLS client authentication in Firefox behind the real nginx (ssl_verify_client on)', () => {
  let world;
  let nginx;
  let ff;
  let m;
  let moduleName;
  let page; // the portal's tab (window handle)
  let tabId; // its id for the extension

  before(async () => {
    lib.checkPrerequisites();
    world = lib.makeWorld('tls-nginx');
    nginx = await startNginx(path.join(world.dir, 'nginx'), lib.tlsFor(world.dir), [
      `ssl_client_certificate ${path.join(world.kit, 'pki/ca.crt')};
      ssl_verify_client on;
      location / {
        return 200 '<!doctype html><p id="authorized">$ssl_client_verify</p><p id="subject">$ssl_client_s_dn</p><p id="cert">$ssl_client_escaped_cert</p>';
      }`,
    ]);
    ({ ff, moduleName } = await launch(world));
    m = ff.marionette;
  });

  after(async () => {
    await ff?.quit();
    await nginx?.close();
    if (process.env.PARAPHE_KEEP_TEST_DIR) console.log(`kept ${world?.dir}`);
    else world?.cleanup();
  });

  /** Runs `script` in the extension's options page (a second tab), for the extension's view of things. */
  async function inExtension(script, args = []) {
    await m.send('Marionette:SetContext', { value: 'content' }); // content tabs' handles, not chrome windows'
    const handles = await m.send('WebDriver:GetWindowHandles');
    if (handles.length < 2) {
      await m.send('WebDriver:NewWindow', { type: 'tab', focus: false });
    }
    const [, helper] = await m.send('WebDriver:GetWindowHandles');
    await m.send('WebDriver:SwitchToWindow', { handle: helper, focus: true }); // `open` loads in the selected tab
    if (await m.execute('content', 'return location.href').catch(() => '') !== OPTIONS) {
      await open(m, OPTIONS);
      await until(m, `return location.href === ${JSON.stringify(OPTIONS)} && document.readyState === 'complete'`, 'the options page');
    }
    try {
      return await m.execute('content', script, args);
    } finally {
      await m.send('WebDriver:SwitchToWindow', { handle: page, focus: true });
    }
  }

  test('without the module, nginx answers its 400 page, and the radar finds it', T, async () => {
    await m.send('Marionette:SetContext', { value: 'content' });
    page = await m.send('WebDriver:GetWindowHandle');
    // The radar's content script is registered once the extension started: a page loaded
    // before would not be read.
    for (const deadline = Date.now() + 60_000; ; await sleep(150)) {
      if (await inExtension('return browser.scripting.getRegisteredContentScripts().then((s) => s.some((x) => x.id === "radar"))')) break;
      if (Date.now() > deadline) throw new Error('the radar\'s script was not registered');
    }
    await m.send('WebDriver:Navigate', { url: nginx.urls[0] });
    assert.equal(await until(m, 'return document.readyState === "complete" && document.title', 'nginx\'s page'),
      '400 No required SSL certificate was sent');
    tabId = await inExtension('return browser.tabs.query({}).then((ts) => ts.find((t) => t.url === arguments[0])?.id)', [nginx.urls[0]]);
    assert.ok(Number.isInteger(tabId), 'the portal\'s tab');
    // The content script's finding (document_idle): waited for before the popup reads it.
    for (const deadline = Date.now() + 60_000; ; await sleep(150)) {
      const reply = await inExtension('return browser.runtime.sendMessage({ kind: "radar-view", tabId: arguments[0] })', [tabId]);
      if (reply?.result?.findings?.some((f) => f.kind === 'tls')) break;
      if (Date.now() > deadline) throw new Error(`no TLS finding: ${JSON.stringify(reply)}`);
    }
  });

  test('« Préparer le navigateur », « Réessayer »: nginx gets the token\'s authentication certificate', T, async () => {
    await m.execute('chrome', FILL_PIN_DIALOG, [lib.PIN, 'Paraphe Demo']);
    // The popup for the portal's tab, in the second tab.
    await m.send('Marionette:SetContext', { value: 'content' });
    const [, helper] = await m.send('WebDriver:GetWindowHandles');
    await m.send('WebDriver:SwitchToWindow', { handle: helper, focus: true });
    await open(m, `${POPUP}?tab=${tabId}`);
    const finding = 'document.querySelector(\'#radar-findings li[data-kind="tls"]\')';
    await until(m, `return !document.getElementById('radar-section').hidden && ${finding}`, 'the TLS finding in the popup');
    assert.match(await m.execute('content', `return ${finding}.textContent`), /Camille Martin/, 'the token\'s authentication certificate');
    await m.execute('content', 'document.getElementById("radar-tls-setup").click()');
    await until(m, `return browser.pkcs11.isModuleInstalled(${JSON.stringify(moduleName)})`, 'the module installed');
    await until(m, 'return !document.getElementById("radar-state").hidden', 'the popup to say so');
    await m.execute('content', 'document.getElementById("radar-retry").click()'); // the portal's tab goes back to nginx
    await m.send('WebDriver:SwitchToWindow', { handle: page, focus: true });
    const subject = await until(m, 'return document.getElementById("subject")?.textContent', 'the portal\'s page');
    assert.equal(await m.execute('content', 'return document.getElementById("authorized").textContent'), 'SUCCESS');
    assert.match(subject, /CN=Camille Martin/);
    assert.match(subject, /O=Mairie de Testville/);
    const pem = decodeURIComponent(await m.execute('content', 'return document.getElementById("cert").textContent'));
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.equal(createHash('sha256').update(der).digest('hex'), world.fingerprint('02'),
      'not the token\'s authentication certificate (CKA_ID 02)');
    assert.equal(await m.execute('chrome', 'return Services.prefs.getIntPref("paraphe.test.pinDialogs")'), 1,
      'Firefox should have asked for the token\'s PIN once');
  });
});
