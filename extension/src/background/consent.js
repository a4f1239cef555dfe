// @ts-check
// The consent window: an extension page in its own popup window, which the page cannot
// script or overlay. It is where the person sees who asks (the origin the browser gave us),
// what is signed, with which certificate, and where the PIN is typed. The PIN goes from that
// window to the host's `login` and is never stored.
//
// Conversation over a runtime port named `consent:<id>`:
//   window → {type:"ready"}                       background → {type:"show", view}
//   window → {type:"confirm", fingerprint, pin?}   background → {type:"pin-error", error} | {type:"done"}
//                                                  | {type:"failed", error} | {type:"progress", done, total}
//   window → {type:"cancel"}                      (closing the window = cancel)
import { api, ParapheError } from '../common/api.js';
import * as native from './native.js';
import { keptUntil } from './sessions.js';

const CONSENT_TIMEOUT_MS = 5 * 60_000;
const WIDTH = 520;
const HEIGHT = 640;

/** @type {Map<string, Consent>} */
const open = new Map(); // consent id → Consent

/**
 * The view as the window gets it: `ask`'s, each choice with its kept login.
 * @typedef {{choices: import('../common/types.js').ConsentChoice[], purpose?: string, [field: string]: unknown}} View
 * @typedef {(choice: import('../common/types.js').ConsentChoice, pin: string | undefined, window: ConsentWindow) => Promise<any>} Work
 */

class Consent {
  /** @param {View} view @param {Work} work */
  constructor(view, work) {
    this.id = crypto.randomUUID();
    this.view = view;
    this.work = work; // async (choice, pin) => result; may throw PIN errors
    this.busy = false;
    /** @type {number | null | undefined} */
    this.windowId = null;
    /** @type {chrome.runtime.Port | null} */
    this.port = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.keepOpen = false;
    /** @type {(value: any) => void} */
    this.resolve = () => {};
    /** @type {(reason: unknown) => void} */
    this.reject = () => {};
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.settled = false;
    // Closing the window aborts the work; a batch (batch.js) then stops and reports what it
    // signed, which settles the request (`handlesClose`); other work is answered at once.
    this.abort = new AbortController();
    this.handlesClose = false;
  }

  /** The window was closed (or its page went away). */
  closed() {
    if (this.settled) return;
    this.abort.abort();
    if (this.busy && this.handlesClose) return;
    this.settle(new ParapheError('USER_CANCELLED', 'the consent window was closed'));
  }

  /** The request is gone (its tab closed): the work stops, the window closes. */
  cancel() {
    this.abort.abort();
    this.settle(new ParapheError('USER_CANCELLED', 'the tab was closed'));
    this.close();
  }

  /** @param {unknown} error null: success @param {unknown} [result] */
  settle(error, result) {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    open.delete(this.id);
    if (error) this.reject(error);
    else this.resolve(result);
  }

  close() {
    if (this.windowId != null) api.windows.remove(this.windowId).catch(() => {});
  }
}

/**
 * Shows the consent window and resolves with what `work(choice, pin, window)` returns once the
 * person confirmed and the work succeeded (`window.progress(done, total)` shows a progress bar;
 * `pin` is undefined for a PIN pad or a kept login, see sessions.js). Rejects with USER_CANCELLED, TIMEOUT, PIN_LOCKED or the
 * work's error. `view` is what the window displays (origin, items, certificate choices;
 * `kind`: `sign` (default), `authenticate` or `certificate`). `timeoutMs`: how long the
 * window waits (default 5 minutes; Web eID pages choose their user-interaction timeout).
 * `keepOpen` (opening a pli): the window stays open after the work, and `ask` resolves with
 * `{result, window}`, `window` being {progress(done, total), finish(error|null), close()}.
 * `view.tabId`: the requesting tab; when it closes, or on `signal` (the request is gone), the
 * window closes, the work's signal is aborted and `ask` rejects with USER_CANCELLED.
 * @param {{choices: import('../common/types.js').ConsentChoice[], purpose?: string, [field: string]: unknown}} view
 * @param {Work} work
 * @param {{timeoutMs?: number, keepOpen?: boolean, signal?: AbortSignal}} [options]
 * @returns {Promise<any>}
 */
export async function ask(view, work, { timeoutMs = CONSENT_TIMEOUT_MS, keepOpen = false, signal } = {}) {
  if (signal?.aborted) throw new ParapheError('USER_CANCELLED', 'the tab was closed');
  const choices = view.choices.map((choice) => ({ ...choice, keptUntil: keptUntil(choice.fingerprint, view.purpose) }));
  const c = new Consent({ ...view, choices }, work);
  c.keepOpen = keepOpen;
  open.set(c.id, c);
  const release = native.hold();
  c.timer = setTimeout(() => {
    c.settle(new ParapheError('TIMEOUT', 'no answer in the consent window'));
    c.close();
  }, timeoutMs);
  const gone = () => c.cancel();
  signal?.addEventListener('abort', gone);
  try {
    const win = await api.windows.create({
      url: api.runtime.getURL(`consent/consent.html#${c.id}`),
      type: 'popup',
      width: WIDTH,
      height: HEIGHT,
      focused: true,
    });
    c.windowId = win?.id;
    if (c.settled) c.close(); // cancelled (or timed out) while the window was being made
    return await c.promise;
  } finally {
    signal?.removeEventListener('abort', gone);
    release();
  }
}

// A window whose tab closed asks for nothing any more (as Web eID's dialogs go with their tab).
api.tabs.onRemoved.addListener((tabId) => {
  for (const c of open.values()) if (c.view.tabId === tabId) c.cancel();
});

/** A window left open after its work: progress, then success or failure (pli.js). */
/**
 * What the work sees of its consent window.
 * @typedef {{progress: (done: number, total: number) => void, finish: (error: import('../common/types.js').ErrorJson | null) => void, close: () => void,
 *   signal: AbortSignal, handlesClose: () => void}} ConsentWindow
 */

/** @param {Consent} c @returns {ConsentWindow} */
function windowHandle(c) {
  const post = (/** @type {import('../common/types.js').ProgressMessage} */ m) => {
    try {
      c.port?.postMessage(m);
    } catch { /* the person closed the window */ }
  };
  return {
    progress: (done, total) => post({ type: 'progress', done, total }),
    finish: (error) => {
      post({ type: 'progress-end', error });
      if (!error) setTimeout(() => c.close(), 1500);
    },
    close: () => c.close(),
    /** Aborted when the person closes the window. */
    signal: c.abort.signal,
    /** The work stops on `signal` and reports itself (batch.js): the request waits for it. */
    handlesClose: () => { c.handlesClose = true; },
  };
}

/** A consent window's page connected (port `consent:<id>`). @param {chrome.runtime.Port} port */
export function onConnect(port) {
  const c = open.get(port.name.slice('consent:'.length));
  if (!c || port.sender?.url?.split('#')[0] !== api.runtime.getURL('consent/consent.html')) {
    port.disconnect();
    return;
  }
  c.port = port;
  port.onDisconnect.addListener(() => {
    c.port = null;
    c.closed();
  });
  port.onMessage.addListener((msg) => onWindowMessage(c, msg));
}

/** @param {number} windowId */
export function onWindowRemoved(windowId) {
  for (const c of open.values()) {
    if (c.windowId === windowId) c.closed();
  }
}

/**
 * A message to the window, if it is still open.
 * @param {Consent} c @param {import('../common/types.js').ConsentMessage} message
 */
function post(c, message) {
  try {
    c.port?.postMessage(message);
  } catch { /* the person closed the window */ }
}

/**
 * @param {Consent} c
 * @param {{type: 'ready'} | {type: 'cancel'} | {type: 'confirm', fingerprint: string, pin?: string} | null | undefined} msg
 *   the window's (consent/consent.js, this extension's page)
 */
async function onWindowMessage(c, msg) {
  if (c.settled) return;
  switch (msg?.type) {
    case 'ready':
      /** @type {chrome.runtime.Port} */ (c.port).postMessage({ type: 'show', view: c.view });
      break;
    case 'cancel':
      c.settle(new ParapheError('USER_CANCELLED', 'the person cancelled'));
      c.close();
      break;
    case 'confirm': {
      if (c.busy) return;
      const choice = c.view.choices.find((x) => x.fingerprint === msg.fingerprint);
      if (!choice) return;
      c.busy = true;
      try {
        const pin = choice.pinPad || !msg.pin ? undefined : msg.pin;
        const result = await c.work(choice, pin, windowHandle(c));
        post(c, { type: 'done' });
        c.settle(null, c.keepOpen ? { result, window: windowHandle(c) } : result);
        if (!c.keepOpen) c.close();
      } catch (e) {
        const err = ParapheError.from(e);
        // A wrong PIN is shown in the window and the person decides: never retried here.
        if (c.abort.signal.aborted && ['PIN_INCORRECT', 'PIN_INVALID', 'PIN_REQUIRED'].includes(err.code)) {
          // …unless the window is gone: nobody is there to type it.
          c.settle(new ParapheError('USER_CANCELLED', 'the consent window was closed', err.details));
        } else if (['PIN_INCORRECT', 'PIN_INVALID', 'PIN_REQUIRED'].includes(err.code)) {
          post(c, { type: 'pin-error', error: err.toJSON() });
        } else {
          post(c, { type: 'failed', error: err.toJSON() });
          c.settle(err);
          // PIN_LOCKED and other failures stay on screen until the person closes the window.
        }
      } finally {
        c.busy = false;
        c.handlesClose = false;
      }
      break;
    }
    default:
      break;
  }
}

// ---- which requests may open a window (docs/SECURITY.md, « Consent windows ») ------------
//
// A page must not be able to put a consent window in front of the person when they are not
// using it (a background tab, a page never touched) or bury them in windows. So a request
// from a web page that opens one is admitted only:
//  - with a user activation in its frame: the content script reports whether the frame has
//    the browser's transient activation or a trusted pointer or key press in the last
//    ACTIVATION_GRACE (content/activation.js), or the person confirmed a consent window of
//    this frame in the last ANSWER_GRACE_MS (below); else USER_ACTIVATION_REQUIRED;
//  - one at a time per tab: while one waits or is shown, the tab's next gets CONSENT_PENDING;
//  - once the tab is visible: active in its window, that window focused and not minimized.
//    Until then the request waits (up to CONSENT_TIMEOUT_MS, then TIMEOUT), and the window
//    opens when the person comes back to the tab.
// The window's buttons then wait 750 ms after it shows and after each focus loss
// (consent/consent.js), as the browsers' own permission prompts do.

const busyTabs = new Set(); // tab ids with an admitted request
const POLL_MS = 500;

// A consent window that the person confirmed is their act for the frame that asked, as a
// click on the page is: for ANSWER_GRACE_MS (content/activation.js's grace) after it, that
// frame's next request is admitted without a fresh activation in the page. A flow of two
// windows (NexU: the certificate chooser, then the signature) thus goes on however long the
// person took over the first; a window cancelled or closed gives nothing. Kept in memory
// only: a background that restarted asks for the page's activation again.
const ANSWER_GRACE_MS = 60_000;
/** @type {Map<string, number>} frame (tab, frame id, origin) → when the person last confirmed one of its windows */
const answered = new Map();

/** @param {chrome.runtime.MessageSender} sender @param {number} tabId */
function frameKey(sender, tabId) {
  let origin = 'null';
  try {
    origin = new URL(String(sender.url)).origin;
  } catch { /* no URL: 'null' */ }
  return `${tabId} ${sender.frameId ?? 0} ${origin}`;
}

/** @param {string} key */
function answeredLately(key) {
  const at = answered.get(key);
  return at !== undefined && performance.now() - at < ANSWER_GRACE_MS;
}

api.tabs.onRemoved.addListener((tabId) => {
  for (const key of answered.keys()) if (key.startsWith(`${tabId} `)) answered.delete(key);
});

/**
 * Admits a request of the web page `sender` (a runtime message sender) that will open a
 * consent window, or throws USER_ACTIVATION_REQUIRED / CONSENT_PENDING / TIMEOUT /
 * USER_CANCELLED (the tab was closed). Resolves, once the tab is visible, with the function
 * that ends the admission. Extension pages are admitted at once.
 * @param {chrome.runtime.MessageSender | undefined} sender
 * @param {unknown} activation the content script's word: the person is using the page
 * @returns {Promise<() => void>}
 */
export async function admit(sender, activation) {
  const tabId = sender?.tab?.id;
  if (tabId === undefined || !Number.isInteger(tabId) || tabId < 0 || String(sender?.url ?? '').startsWith(api.runtime.getURL(''))) {
    return () => {};
  }
  if (activation !== true && !answeredLately(frameKey(/** @type {chrome.runtime.MessageSender} */ (sender), tabId))) {
    throw new ParapheError('USER_ACTIVATION_REQUIRED',
      'ask for a signature or a certificate from a click or a key press of the person on the page');
  }
  if (busyTabs.has(tabId)) {
    throw new ParapheError('CONSENT_PENDING', 'a consent window of this tab is open or waiting: one at a time');
  }
  busyTabs.add(tabId);
  let admitted = true;
  const end = () => {
    if (admitted) busyTabs.delete(tabId);
    admitted = false;
  };
  try {
    await untilVisible(tabId);
  } catch (e) {
    end();
    throw e;
  }
  return end;
}

/**
 * `work()` under an admission (see admit). `confirmed`: the work resolves only once the person
 * confirmed its consent window (the default), which then counts as their act for the frame
 * (ANSWER_GRACE_MS); false for a work that also resolves when the window was closed.
 * @template T
 * @param {chrome.runtime.MessageSender | undefined} sender
 * @param {unknown} activation
 * @param {() => Promise<T>} work
 * @param {{confirmed?: boolean}} [options]
 * @returns {Promise<T>}
 */
export async function fromTab(sender, activation, work, { confirmed = true } = {}) {
  const end = await admit(sender, activation);
  try {
    const result = await work();
    const tabId = sender?.tab?.id;
    if (confirmed && sender && Number.isInteger(tabId) && /** @type {number} */ (tabId) >= 0) {
      for (const [key, at] of answered) if (performance.now() - at >= ANSWER_GRACE_MS) answered.delete(key);
      answered.set(frameKey(sender, /** @type {number} */ (tabId)), performance.now());
    }
    return result;
  } finally {
    end();
  }
}

/** @param {number} tabId */
async function visible(tabId) {
  let tab;
  try {
    tab = await api.tabs.get(tabId);
  } catch {
    throw new ParapheError('USER_CANCELLED', 'the tab was closed');
  }
  if (!tab.active) return false;
  const win = await api.windows.get(tab.windowId);
  return win.focused && win.state !== 'minimized';
}

/** @type {Set<(value?: unknown) => void>} */
const wakers = new Set();
const wakeAll = () => {
  for (const wake of wakers) wake();
};
api.tabs.onActivated.addListener(wakeAll);
api.tabs.onRemoved.addListener(wakeAll);
api.tabs.onAttached.addListener(wakeAll);
api.windows.onFocusChanged.addListener(wakeAll);

/** @param {number} tabId */
async function untilVisible(tabId) {
  const deadline = Date.now() + CONSENT_TIMEOUT_MS;
  for (;;) {
    /** @type {(value?: unknown) => void} */
    let wake = () => {};
    const changed = new Promise((resolve) => { wake = resolve; });
    wakers.add(wake);
    try {
      if (await visible(tabId)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new ParapheError('TIMEOUT', 'the tab was not shown');
      // Events wake it; a short poll too, as not every focus change is reported (Firefox
      // headless gives the focus back to a window without windows.onFocusChanged).
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      await Promise.race([changed, new Promise((resolve) => { timer = setTimeout(resolve, Math.min(left, POLL_MS)); })]);
      clearTimeout(timer);
    } finally {
      wakers.delete(wake);
    }
  }
}
