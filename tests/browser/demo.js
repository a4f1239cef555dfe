// The browser part of scripts/demo.sh: the demo portal with the built-in SoftHSM demo token,
// opened in Chromium with the extension loaded.
//   - with a display ($DISPLAY): a normal window on the portal; log in and sign yourself
//     (PIN 1234); close the browser (or Ctrl-C) to stop;
//   - without: headless, it logs in and signs the délibération itself, typing the demo PIN
//     into the consent window, and saves screenshots to <work>/*.png.
//
//   node tests/browser/demo.js <work dir>      (scripts/demo.sh sets the environment:
//   SOFTHSM2_CONF and PARAPHE_CONFIG for the demo token, PARAPHE_HOST_BIN, PARAPHE_PORTAL_BIN)
//
// The portal is plain http on 127.0.0.1, so the extension's developer option
// allowLoopbackHttp is turned on in this throw-away profile (docs/PAGE-API.md).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as driver from './driver.js';
import * as lib from './lib.js';
import * as portal from './portal.js';

const work = path.resolve(process.argv[2] ?? path.join(lib.ROOT, 'target/demo'));
const kit = path.join(work, 'token');
const PIN = process.env.PARAPHE_DEMO_PIN ?? lib.PIN;
const headless = !process.env.DISPLAY;
const say = (m) => console.log(m);

async function startPortal() {
  const port = process.env.PARAPHE_DEMO_PORT ?? '8090';
  try {
    return await portal.startPortal(kit, { listen: `127.0.0.1:${port}` });
  } catch {
    return portal.startPortal(kit, { listen: '127.0.0.1:0' }); // 8090 taken: any free port
  }
}

async function drive(browser, origin, fingerprint) {
  const shots = [];
  const shot = async (page, name) => {
    const file = path.join(work, `${name}.png`);
    await page.screenshot(file);
    shots.push(file);
  };
  const page = await browser.newPage(`${origin}/`);
  await shot(page, '1-home');

  say('  log in with the card (authentication certificate, demo PIN)');
  await page.goto(`${origin}/login`);
  await page.waitFor('#login');
  const loginConsentP = browser.expectConsent();
  await page.click('#login');
  const loginConsent = await loginConsentP;
  await loginConsent.click(`input[name=certificate][value="${fingerprint('02')}"]`);
  await loginConsent.type('#pin', PIN);
  await shot(loginConsent, '2-consent-login');
  await loginConsent.click('#confirm');
  await page.waitForFunction(() => document.body.dataset.loggedIn || document.body.dataset.loginError);
  const who = await page.evaluate(() => document.body.dataset.loggedIn);
  if (!who) throw new Error(`login refused: ${await page.text('#status')}`);
  await page.goto(`${origin}/`); // the home page of someone logged in
  await page.waitFor('#who');
  await shot(page, '3-logged-in');
  say(`  logged in: ${who}`);

  say('  sign the délibération (data-paraphe-* markup; the portal verifies the signature)');
  await page.goto(`${origin}/deliberation`);
  await page.waitFor('#sign-form .paraphe-sign-button');
  const signConsentP = browser.expectConsent();
  await page.click('#sign-form .paraphe-sign-button');
  const signConsent = await signConsentP;
  await signConsent.click(`input[name=certificate][value="${fingerprint('01')}"]`);
  await signConsent.type('#pin', PIN);
  await shot(signConsent, '4-consent-sign');
  await signConsent.click('#confirm');
  await page.waitForFunction(() => document.getElementById('signature').value.length > 0);
  await page.click('#send');
  await page.waitFor('#result');
  const ok = await page.evaluate(() => document.getElementById('result').dataset.ok === 'true');
  await shot(page, '5-deliberation-signed');
  if (!ok) throw new Error(`signature refused: ${await page.text('#result')}`);
  say(`  ${await page.text('#result')}`);
  return shots;
}

async function main() {
  lib.checkPrerequisites();
  portal.checkPortal();
  const dir = path.join(work, 'browser');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const world = { dir, env: { ...process.env } };
  const fingerprint = (id) => createHash('sha256')
    .update(execFileSync('openssl', ['x509', '-in', path.join(kit, 'pki', `${id}.crt`), '-outform', 'DER']))
    .digest('hex');

  const site = await startPortal();
  // Playwright ends the process on Ctrl-C (closing Chromium): the portal must go too.
  process.on('exit', () => site.kill());
  say(`  demo portal: ${site.origin}/`);
  const browser = await driver.launch('chromium', world, { headless, allowLoopbackHttp: true });
  const stop = async () => {
    await browser.close().catch(() => {});
    await site.close();
  };
  try {
    if (headless) {
      say('  no display ($DISPLAY unset): headless Chromium; this script logs in and signs by itself');
      const shots = await drive(browser, site.origin, fingerprint);
      say('  screenshots:');
      for (const s of shots) say(`    ${path.relative(process.cwd(), s)}`);
    } else {
      await browser.newPage(`${site.origin}/`);
      say(`  Chromium is open on the portal. The demo card's PIN is ${PIN}.`);
      say('  Close the browser (or press Ctrl-C) to stop the portal.');
      await new Promise((resolve) => {
        browser.onClose(resolve);
        process.once('SIGINT', resolve);
      });
    }
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(`demo: ${e?.stack ?? e}`);
  process.exit(1);
});
