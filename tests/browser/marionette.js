// A minimal Marionette client (Firefox's own remote protocol), for what WebDriver BiDi and
// puppeteer cannot do: privileged (chrome-context) scripts, such as typing a token's PIN in
// Firefox's own « security device » dialog, and the extension's own moz-extension:// pages
// (popup, options, consent windows: `Tabs` below). Messages are `length:JSON`; requests
// `[0, id, name, params]`, answers `[1, id, error, result]`.
//
// Firefox is started with `-marionette -remote-allow-system-access` and the pref
// `marionette.port` 0: it picks a free port and writes it to `<profile>/MarionetteActivePort`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Marionette {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.pending = new Map();
    this.nextId = 1;
    this.greeting = new Promise((resolve) => { this.greeted = resolve; });
    socket.on('data', (data) => this.receive(data));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('Marionette connection closed'));
      this.pending.clear();
    });
  }

  static async connect(port) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const m = new Marionette(socket);
    await m.greeting;
    return m;
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + length) return;
      const message = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + length).toString());
      this.buffer = this.buffer.subarray(colon + 1 + length);
      if (!Array.isArray(message)) {
        this.greeted(message);
        continue;
      }
      const [, id, error, result] = message;
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (!p) continue;
      if (error) p.reject(new Error(`${p.name}: ${error.error}: ${error.message}`));
      else p.resolve(result?.value !== undefined && Object.keys(result).length === 1 ? result.value : result);
    }
  }

  /** Sends one command; resolves to its result (`value` unwrapped). */
  send(name, params = {}) {
    const id = this.nextId++;
    const body = Buffer.from(JSON.stringify([0, id, name, params]));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, name });
      this.socket.write(Buffer.concat([Buffer.from(`${body.length}:`), body]));
    });
  }

  /** Runs `script` (a function body; `arguments` are `args`) in `context` (`content` or `chrome`). */
  async execute(context, script, args = []) {
    await this.send('Marionette:SetContext', { value: context });
    return this.send('WebDriver:ExecuteScript', { script, args });
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * Starts headless Firefox on a fresh profile in `dir` with `prefs` and `env`, and opens a
 * Marionette session. Resolves to {marionette, quit}.
 */
export async function launchFirefox({ executable, dir, prefs = {}, env, capabilities = {} }) {
  const profile = path.join(dir, 'profile');
  fs.mkdirSync(profile, { recursive: true });
  const all = {
    'marionette.port': 0,
    'browser.shell.checkDefaultBrowser': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.aboutwelcome.enabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'app.update.disabledForTesting': true,
    'network.captive-portal-service.enabled': false,
    ...prefs,
  };
  fs.writeFileSync(path.join(profile, 'user.js'),
    Object.entries(all).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  const log = fs.openSync(path.join(dir, 'firefox.log'), 'w');
  const child = spawn(executable, ['-marionette', '-remote-allow-system-access', '-headless', '-no-remote', '-profile', profile],
    { env, stdio: ['ignore', log, log] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  try {
    let port = 0;
    for (let i = 0; i < 300 && !port; i++) {
      if (child.exitCode !== null) throw new Error(`Firefox exited (${child.exitCode}); see ${dir}/firefox.log`);
      await sleep(100);
      try { port = Number(fs.readFileSync(path.join(profile, 'MarionetteActivePort'), 'utf8')); } catch { /* not yet */ }
    }
    if (!port) throw new Error('Firefox did not open its Marionette port in 30 s');
    const marionette = await Marionette.connect(port);
    await marionette.send('WebDriver:NewSession', capabilities);
    const quit = async () => {
      await Promise.race([marionette.send('Marionette:Quit', { flags: ['eForceQuit'] }).catch(() => {}), sleep(5000)]);
      marionette.close();
      await Promise.race([exited, sleep(10_000)]);
      kill();
    };
    return { marionette, quit, pid: child.pid };
  } catch (e) {
    kill();
    throw e;
  }
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const GONE = /no such window|closed|discarded|NoSuchWindow|unknown error: Failed to close/i;

/**
 * Tabs and windows of a Marionette session, driven as pages: what the browser suites ask of a
 * page (open, run a function in it, wait for a state, click, type, close), for Firefox pages
 * that WebDriver BiDi may not reach (moz-extension://: the popup, the options page, consent
 * windows). A page is a `Tab` (its window handle); every call switches to its tab first, and calls
 * are serialized (Marionette runs one command at a time against one current window).
 * Waits are hang guards on a state: they end when the state is reached.
 */
export class Tabs {
  constructor(marionette, { guard = 60_000 } = {}) {
    this.m = marionette;
    this.guard = guard;
    this.queue = Promise.resolve();
    this.current = null;
    this.context = null;
  }

  /** Runs `op` alone (no other call switches window or context meanwhile). */
  serial(op) {
    const run = this.queue.then(op);
    this.queue = run.catch(() => {});
    return run;
  }

  async switchTo(handle, focus = false) {
    if (this.current !== handle || focus) {
      this.current = null;
      await this.m.send('WebDriver:SwitchToWindow', { handle, focus });
      this.current = handle;
    }
  }

  async setContext(context) {
    if (this.context !== context) {
      await this.m.send('Marionette:SetContext', { value: context });
      this.context = context;
    }
  }

  /** Window handles (tabs, extension windows) open now. */
  handles() { return this.serial(() => this.m.send('WebDriver:GetWindowHandles')); }

  /**
   * A new tab, in front, showing `url`. Web pages are loaded by WebDriver (it returns once the
   * page loaded; `failing`: the load may end on an error page); extension pages by the browser
   * itself (Marionette may not navigate to moz-extension:), until the tab shows them.
   */
  async open(url, { failing = false } = {}) {
    const page = await this.serial(async () => {
      await this.setContext('content');
      // A new tab is opened beside the current window, which must still be there.
      const open = await this.m.send('WebDriver:GetWindowHandles');
      if (!open.includes(this.current)) await this.switchTo(open[0]);
      const { handle } = await this.m.send('WebDriver:NewWindow', { type: 'tab', focus: true });
      await this.switchTo(handle, true);
      if (url.startsWith('moz-extension:')) {
        await this.setContext('chrome');
        await this.m.send('WebDriver:ExecuteScript', { script: 'openTrustedLinkIn(arguments[0], "current")', args: [url] });
        await this.setContext('content');
      } else {
        await this.m.send('WebDriver:Navigate', { url }).catch((e) => { if (!failing) throw e; });
      }
      return new Tab(this, handle, url);
    });
    if (url.startsWith('moz-extension:')) await this.waitFor(page, (u) => location.href === u && document.readyState === 'complete', url);
    return page;
  }

  /** Runs `fn(...args)` in `page` (`fn` self-contained; a promise is awaited). */
  eval(page, fn, ...args) {
    return this.serial(async () => {
      if (page.closed) throw new Error(`${page.url} was closed`);
      await this.switchTo(page.handle);
      await this.setContext('content');
      return this.m.send('WebDriver:ExecuteScript', { script: `return (${fn})(...arguments)`, args });
    });
  }

  /** Resolves to `fn(...args)`'s value once it is truthy (errors while a page loads count as not yet). */
  async waitFor(page, fn, ...args) {
    const deadline = Date.now() + this.guard;
    let last = null;
    for (;;) {
      try {
        const v = await this.eval(page, fn, ...args);
        if (v) return v;
      } catch (e) {
        if (page.closed) throw e;
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`no such state in ${page.url}: ${fn}${last ? ` (${last.message})` : ''}`);
      await sleep(100);
    }
  }

  /** A click as a person makes it (trusted events: a user activation for the page). */
  click(page, selector) {
    return this.serial(async () => {
      await this.switchTo(page.handle);
      await this.setContext('content');
      const element = await this.m.send('WebDriver:FindElement', { using: 'css selector', value: selector });
      await this.m.send('WebDriver:ElementClick', { id: element[ELEMENT] ?? element });
    });
  }

  /** Like `click`, on a button that closes its window. */
  clickClosing(page, selector) {
    return this.click(page, selector).catch((e) => { if (!GONE.test(e.message)) throw e; })
      .finally(() => { this.current = null; });
  }

  /** Types `text` into the field `selector` as key presses. */
  type(page, selector, text) {
    return this.serial(async () => {
      await this.switchTo(page.handle);
      await this.setContext('content');
      const element = await this.m.send('WebDriver:FindElement', { using: 'css selector', value: selector });
      await this.m.send('WebDriver:ElementClear', { id: element[ELEMENT] ?? element });
      await this.m.send('WebDriver:ElementSendKeys', { id: element[ELEMENT] ?? element, text });
    });
  }

  /** Makes `page` the selected tab of a focused window (as the person looking at it). */
  front(page) { return this.serial(() => this.switchTo(page.handle, true)); }

  /** The URL `handle` shows, or '' once it is gone. */
  urlOf(handle) {
    return this.serial(async () => {
      await this.switchTo(handle);
      await this.setContext('content');
      return this.m.send('WebDriver:GetCurrentURL');
    }).catch(() => { this.current = null; return ''; });
  }

  /** Resolves to the first window opened since `known` (a set of handles) whose URL starts with `prefix`. */
  async appeared(known, prefix) {
    const deadline = Date.now() + this.guard;
    const skipped = new Set(known);
    for (;;) {
      for (const handle of await this.handles()) {
        if (skipped.has(handle)) continue;
        const url = await this.urlOf(handle);
        if (url.startsWith(prefix)) return new Tab(this, handle, url);
        if (url && url !== 'about:blank') skipped.add(handle);
      }
      if (Date.now() > deadline) throw new Error(`no window for ${prefix}`);
      await sleep(150);
    }
  }

  /** Closes `page`'s tab or window (`page.close()`). */
  close(page) {
    if (page.closed) return Promise.resolve();
    page.closed = true;
    return this.serial(async () => {
      await this.switchTo(page.handle);
      await this.m.send('WebDriver:CloseWindow').catch((e) => { if (!GONE.test(e.message)) throw e; });
      this.current = null;
    }).catch((e) => { if (!GONE.test(e.message)) throw e; });
  }
}

/** One tab or window of `Tabs`. */
class Tab {
  constructor(tabs, handle, url) {
    this.tabs = tabs;
    this.handle = handle;
    this.url = url;
    this.closed = false;
  }

  isClosed() { return this.closed; }

  close() { return this.tabs.close(this); }
}
