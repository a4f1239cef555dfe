// A minimal Marionette client (Firefox's own remote protocol), for what WebDriver BiDi and
// puppeteer cannot do: privileged (chrome-context) scripts, such as typing a token's PIN in
// Firefox's own « security device » dialog. Messages are `length:JSON`; requests
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
