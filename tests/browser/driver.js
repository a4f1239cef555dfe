// One small interface over the two drivers of these tests, for suites that run the same
// steps in both browsers (login.test.js, webeid.test.js): Chromium through playwright-core,
// Firefox ESR through puppeteer-core (WebDriver BiDi), each with the extension loaded and
// the host registered for a throw-away profile, as chromium.test.js and firefox.test.js do.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import * as lib from './lib.js';

// Fixed moz-extension:// UUID, so the consent page's URL is known.
const GECKO_UUID = '5f0c2a8e-7d1b-4c36-9a4e-2b8f6d3e1a07';

const READY = '#main:not([hidden])';
/**
 * PARAPHE_FIREFOX_CONSOLE=1: Firefox's output, with every console message of the extension
 * (background, frames, workers) and of pages, on this process's output: how a stall inside
 * the extension is located (console.log where it may stop, then loop the test).
 */
const CONSOLE = process.env.PARAPHE_FIREFOX_CONSOLE === '1';
/** A consent window that only says that no certificate fits (background/choices.js). */
export const NO_SUITABLE = '#status.error:not([hidden])';

/** The browsers this run asks for (run.sh sets PARAPHE_BROWSERS), in order. */
export function browsers() {
  return (process.env.PARAPHE_BROWSERS ?? 'chromium firefox').split(/\s+/).filter((b) => ['chromium', 'firefox'].includes(b));
}

/** A page with the few calls the suites need, the same in both drivers. */
class Page {
  constructor(raw, kind) {
    this.raw = raw;
    this.kind = kind;
  }

  goto(url) { return this.raw.goto(url); }

  /**
   * Runs `fn(arg)` in the page; `fn` must be self-contained. A key press first (Shift, which
   * does nothing): consent windows open only for a page the person is using
   * (content/activation.js), and Firefox stops giving WebDriver BiDi's evaluations a user
   * activation once an extension window has opened.
   */
  async evaluate(fn, arg) {
    await gesture(this.raw);
    return this.raw.evaluate(fn, arg);
  }

  // Default waits are hang guards, long enough for a loaded machine (scripts/stress-suite.sh):
  // each ends on the awaited state, never on the clock.
  waitFor(selector, timeout = 60_000) { return this.raw.waitForSelector(selector, { timeout }); }

  waitForFunction(fn, timeout = 90_000) {
    return this.kind === 'chromium'
      ? this.raw.waitForFunction(fn, undefined, { timeout })
      : this.raw.waitForFunction(fn, { timeout });
  }

  text(selector) { return this.raw.$eval(selector, (e) => e.textContent); }

  count(selector) { return this.raw.$$eval(selector, (els) => els.length); }

  visible(selector) {
    return this.raw.$eval(selector, (e) => !e.closest('[hidden]') && getComputedStyle(e).display !== 'none');
  }

  click(selector) { return this.raw.click(selector); }

  /** Chooses `file` (a path) in the file input `selector`: playwright's setInputFiles, puppeteer's uploadFile. */
  async chooseFile(selector, file) {
    if (this.kind === 'chromium') await this.raw.setInputFiles(selector, file);
    else await (await this.raw.$(selector)).uploadFile(file);
  }

  /** Adds a file input `#id` to the page (for pages that have none) and chooses `file` in it. */
  async addFileInput(id, file) {
    await this.raw.evaluate((i) => {
      const input = document.createElement('input');
      input.type = 'file';
      input.id = i;
      document.body.append(input);
    }, id);
    await this.chooseFile(`#${id}`, file);
  }

  /** Makes this tab the active one of its window (the others are then hidden). */
  bringToFront() { return this.raw.bringToFront(); }

  async type(selector, text) {
    if (this.kind === 'chromium') {
      await this.raw.fill(selector, text);
      return;
    }
    await this.raw.$eval(selector, (e) => { e.value = ''; });
    await this.raw.type(selector, text);
  }

  screenshot(file) { return this.raw.screenshot({ path: file }); }

  /**
   * Closes the tab; fails, naming it, if the browser has not closed it within CLOSE_BOUND_MS
   * (never retried). Close a tab once what navigates it has loaded: Chromium acknowledges a
   * close that races a navigation's commit and drops it, and playwright's close then never
   * returns (crbug 536385539; radar.test.js's nginx tests hung so in CI).
   */
  async close() {
    const url = this.raw.url();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the tab of ${url} was not closed within ${CLOSE_BOUND_MS / 1000} s`)), CLOSE_BOUND_MS);
    });
    try {
      await Promise.race([this.raw.close().catch(() => {}), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How long a tab's close may take (Page.close). */
const CLOSE_BOUND_MS = 30_000;

/** A trusted key press of Shift in `raw` (a playwright or puppeteer page): a user activation. */
export const gesture = (raw) => raw.keyboard.press('Shift');

/**
 * The consent window of a request whose answer in the page is the promise `answer`: fails at
 * once, with that answer, if the page got it first (a request refused or stuck before any
 * window), instead of waiting for a window that will not come.
 */
export async function consentFor(consentP, answer) {
  consentP.catch(() => {}); // not awaited when the answer comes first
  const first = await Promise.race([consentP.then((consent) => ({ consent })), answer.then((early) => ({ early }))]);
  if (!first.consent) throw new Error(`the page got its answer before any consent window: ${JSON.stringify(first.early)}`);
  return first.consent;
}

/** The extension's consent window. */
export class Consent extends Page {
  evaluate(fn, arg) { return this.raw.evaluate(fn, arg); }

  origin() { return this.text('#origin'); }

  /** Fingerprints of the certificates offered. */
  choices() { return this.raw.$$eval('input[name=certificate]', (els) => els.map((e) => e.value)); }

  /**
   * The buttons answer 750 ms after the window shows and after each focus loss
   * (consent/consent.js): wait for them (puppeteer clicks a disabled button to no effect).
   */
  waitArmed() { return this.waitFor('#confirm:not([disabled])'); }

  /** Chooses a certificate, types the PIN when asked for one, and confirms. */
  async confirm(fingerprint, pin) {
    await this.click(`input[name=certificate][value="${fingerprint}"]`);
    if (pin !== undefined) await this.type('#pin', pin);
    await this.waitArmed();
    await this.clickClosing('#confirm');
  }

  async cancel() {
    await this.waitArmed();
    await this.clickClosing('#cancel');
  }

  /** The window closes itself once answered, possibly while the driver still finishes the click. */
  async clickClosing(selector) {
    await this.click(selector).catch((e) => { if (!/closed|detached|target/i.test(e.message)) throw e; });
  }
}

/**
 * Launches `kind` with the extension and, unless `withHost` is false, the host registered.
 * `world` is lib.makeWorld's. Self-signed https test servers are accepted.
 * `allowLoopbackHttp` (Chromium only) turns the developer option on (scripts/demo.sh).
 * `thirdPartyCookies` (Chromium only): allowed by policy, as Chrome's and Edge's defaults do.
 * `settings` (e.g. {pinSessionMinutes: 5}): in Chromium the person's options
 * (common/store.js, set as the options page does), in Firefox the administrator's policy
 * (managed storage, as deployed).
 */
export async function launch(kind, world, { withHost = true, headless = true, allowLoopbackHttp = false, settings = null, thirdPartyCookies = false } = {}) {
  return kind === 'chromium'
    ? launchChromium(world, { withHost, headless, allowLoopbackHttp, settings, thirdPartyCookies })
    : launchFirefox(world, { withHost, headless, settings });
}

async function launchChromium(world, { withHost, headless, allowLoopbackHttp, settings, thirdPartyCookies }) {
  const userDataDir = path.join(world.dir, `chromium-${Date.now()}`);
  if (withHost) lib.writeHostManifest('chromium', path.join(userDataDir, 'NativeMessagingHosts/fr.paraphe.host.json'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    // This Chromium (Debian's 156) blocks third-party cookies, and with them storage for the
    // extension frame in a page; Chrome and Edge allow them by default: `thirdPartyCookies`
    // does as they do (the BlockThirdPartyCookies policy).
    executablePath: lib.chromiumExecutable(world.dir, null, thirdPartyCookies ? { BlockThirdPartyCookies: false } : null),
    headless,
    ignoreHTTPSErrors: true,
    env: world.env,
    viewport: { width: 1100, height: 800 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      `--disable-extensions-except=${lib.EXT.chromium}`, `--load-extension=${lib.EXT.chromium}`,
    ],
  });
  context.setDefaultTimeout(90_000); // hang guards, long enough for a loaded machine
  const isOurs = (w) => w.url().startsWith(`chrome-extension://${lib.CHROMIUM_ID}/`);
  const worker = context.serviceWorkers().find(isOurs)
    ?? await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 60_000 });
  if (allowLoopbackHttp || settings) await lib.storeChromium(context, { ...(allowLoopbackHttp ? { allowLoopbackHttp } : {}), ...settings });
  const consentPrefix = `chrome-extension://${lib.CHROMIUM_ID}/consent/`;
  /**
   * The browser's windows and tabs as the background sees them (a consent window waits for
   * its tab to be shown: background/consent.js, untilVisible), for a failure's message.
   */
  const windowsNow = async () => {
    const sw = context.serviceWorkers().find(isOurs);
    if (!sw) return 'no service worker';
    const state = sw.evaluate(async () => JSON.stringify((await chrome.windows.getAll({ populate: true })).map((w) => ({
      id: w.id, type: w.type, focused: w.focused, state: w.state,
      tabs: (w.tabs ?? []).map((t) => `${t.active ? 'active ' : ''}${t.id}`), // no URLs: no tabs permission
    }))));
    const late = new Promise((resolve) => { setTimeout(resolve, 5_000, 'the service worker did not answer in 5 s').unref(); });
    return Promise.race([state, late]).catch((e) => `unknown (${e.message})`);
  };
  return {
    kind: 'chromium',
    async newPage(url) {
      const page = new Page(await context.newPage(), 'chromium');
      if (url) await page.goto(url);
      return page;
    },
    /**
     * Call before the action that opens the consent window; await the result after. `ready`:
     * what shows the window is drawn (`NO_SUITABLE` for a window that only says no
     * certificate fits).
     */
    expectConsent(timeout = 90_000, ready = READY) {
      const p = context.waitForEvent('page', { predicate: (pg) => pg.url().startsWith(consentPrefix), timeout })
        .catch(async (e) => { throw new Error(`${e.message}\nwindows: ${await windowsNow()}`); });
      return p.then(async (raw) => {
        const c = new Consent(raw, 'chromium');
        await c.waitFor(ready);
        return c;
      });
    },
    /** How many consent windows are open. */
    consentCount: () => context.pages().filter((pg) => pg.url().startsWith(consentPrefix)).length,
    context,
    onClose: (fn) => context.on('close', fn),
    close: () => context.close(),
  };
}

async function launchFirefox(world, { withHost, headless, settings }) {
  const home = path.join(world.dir, `home-${Date.now()}`);
  fs.mkdirSync(home, { recursive: true });
  if (settings) {
    const managed = path.join(home, '.mozilla/managed-storage', `${lib.GECKO_ID}.json`);
    fs.mkdirSync(path.dirname(managed), { recursive: true });
    fs.writeFileSync(managed, JSON.stringify({ name: lib.GECKO_ID, description: 'Paraphe policy', type: 'storage', data: settings }));
  }
  if (withHost) lib.writeHostManifest('firefox', path.join(home, '.mozilla/native-messaging-hosts/fr.paraphe.host.json'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: lib.firefoxExecutable(world.dir),
    headless,
    acceptInsecureCerts: true,
    env: { ...world.env, HOME: home },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [lib.GECKO_ID]: GECKO_UUID }),
      ...(CONSOLE ? { 'devtools.console.stdout.chrome': true, 'devtools.console.stdout.content': true } : {}),
    },
    dumpio: CONSOLE,
  });
  const id = await browser.installExtension(lib.EXT.firefox);
  if (id !== lib.GECKO_ID) throw new Error(`unexpected add-on id ${id}`);
  const prefix = `moz-extension://${GECKO_UUID}/consent/`;
  const seen = new WeakSet(); // consent windows already handed out
  /** What each page's location is, or why it cannot be read: for error messages. */
  const hrefs = async () => Promise.all((await browser.pages()).map((p) => p.evaluate(() => location.href)
    .catch((e) => `(${e.message.split('\n')[0].slice(0, 100)})`)));
  return {
    kind: 'firefox',
    async newPage(url) {
      const page = new Page(await browser.newPage(), 'firefox');
      if (url) await page.goto(url);
      return page;
    },
    /**
     * WebDriver BiDi reports extension windows as about:blank, so new pages are asked for
     * their location until the consent window shows up.
     */
    async expectConsent(timeout = 90_000, ready = READY) {
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        for (const p of await browser.pages()) {
          if (seen.has(p)) continue;
          const href = await p.evaluate(() => location.href).catch(() => '');
          if (href.startsWith(prefix)) {
            seen.add(p);
            const c = new Consent(p, 'firefox');
            await c.waitFor(ready);
            return c;
          }
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(`no consent window; pages: ${JSON.stringify(await hrefs())}`);
    },
    /**
     * The page at `url` that the extension opened (WebDriver BiDi may not navigate to
     * moz-extension:// URLs), once it shows; the deadline is a hang guard.
     */
    async pageAt(url, timeout = 30_000) {
      for (const deadline = Date.now() + timeout; Date.now() < deadline;) {
        for (const p of await browser.pages()) {
          if ((await p.evaluate(() => location.href).catch(() => '')) === url) return new Page(p, 'firefox');
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(`${url} did not open; pages: ${JSON.stringify(await hrefs())}`);
    },
    /** How many consent windows are open. */
    async consentCount() {
      let n = 0;
      for (const p of await browser.pages()) {
        if ((await p.evaluate(() => location.href).catch(() => '')).startsWith(prefix)) n++;
      }
      return n;
    },
    /**
     * The files of the extension's origin-private file system on disk (Firefox keeps them
     * under the profile's storage/default/moz-extension+++<uuid>/fs/, one file each, by
     * hashed names): [{path, size}], its metadata database left out.
     */
    extensionOpfsFiles() {
      const args = browser.process()?.spawnargs ?? [];
      const at = args.findIndex((a) => a === '--profile' || a === '-profile');
      if (at < 0) throw new Error(`no profile in ${args.join(' ')}`);
      const fsDir = path.join(args[at + 1], 'storage/default', `moz-extension+++${GECKO_UUID}`, 'fs');
      if (!fs.existsSync(fsDir)) return [];
      // Firefox creates and deletes files there as it goes (its database's journal, a file
      // being removed): one listed by readdir may be gone by its stat.
      const files = [];
      for (const name of fs.readdirSync(fsDir, { recursive: true })) {
        const f = path.join(fsDir, String(name));
        if (path.basename(f).startsWith('metadata')) continue;
        let stat;
        try {
          stat = fs.statSync(f);
        } catch (e) {
          if (e.code === 'ENOENT') continue;
          throw e;
        }
        if (stat.isFile()) files.push({ path: f, size: stat.size });
      }
      return files;
    },
    close: () => browser.close(),
  };
}
