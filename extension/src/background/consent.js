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
import { core } from './core.js';
import * as native from './native.js';
import { keptUntil } from './sessions.js';

const CONSENT_TIMEOUT_MS = 5 * 60_000;
const WIDTH = 520;
const HEIGHT = 640;

const open = new Map(); // consent id → Consent

class Consent {
  constructor(view, work) {
    this.id = crypto.randomUUID();
    this.view = view;
    this.work = work; // async (choice, pin) => result; may throw PIN errors
    this.busy = false;
    this.windowId = null;
    this.port = null;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.settled = false;
  }

  settle(error, result) {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    open.delete(this.id);
    if (error) this.reject(error);
    else this.resolve(result);
  }

  close() {
    if (this.windowId !== null) api.windows.remove(this.windowId).catch(() => {});
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
 */
export async function ask(view, work, { timeoutMs = CONSENT_TIMEOUT_MS, keepOpen = false } = {}) {
  const choices = view.choices.map((choice) => ({ ...choice, keptUntil: keptUntil(choice.fingerprint, view.purpose) }));
  const c = new Consent({ ...view, choices }, work);
  c.keepOpen = keepOpen;
  open.set(c.id, c);
  const release = native.hold();
  c.timer = setTimeout(() => {
    c.settle(new ParapheError('TIMEOUT', 'no answer in the consent window'));
    c.close();
  }, timeoutMs);
  try {
    const win = await api.windows.create({
      url: api.runtime.getURL(`consent/consent.html#${c.id}`),
      type: 'popup',
      width: WIDTH,
      height: HEIGHT,
      focused: true,
    });
    c.windowId = win.id;
    return await c.promise;
  } finally {
    release();
  }
}

/** A window left open after its work: progress, then success or failure (pli.js). */
function windowHandle(c) {
  const post = (m) => {
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
  };
}

export function onConnect(port) {
  const c = open.get(port.name.slice('consent:'.length));
  if (!c || port.sender?.url?.split('#')[0] !== api.runtime.getURL('consent/consent.html')) {
    port.disconnect();
    return;
  }
  c.port = port;
  port.onDisconnect.addListener(() => {
    c.settle(new ParapheError('USER_CANCELLED', 'the consent window was closed'));
  });
  port.onMessage.addListener((msg) => onWindowMessage(c, msg));
}

export function onWindowRemoved(windowId) {
  for (const c of open.values()) {
    if (c.windowId === windowId) c.settle(new ParapheError('USER_CANCELLED', 'the consent window was closed'));
  }
}

async function onWindowMessage(c, msg) {
  if (c.settled) return;
  switch (msg?.type) {
    case 'ready':
      c.port.postMessage({ type: 'show', view: c.view });
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
        c.port?.postMessage({ type: 'done' });
        c.settle(null, c.keepOpen ? { result, window: windowHandle(c) } : result);
        if (!c.keepOpen) c.close();
      } catch (e) {
        const err = ParapheError.from(e);
        // A wrong PIN is shown in the window and the person decides: never retried here.
        if (['PIN_INCORRECT', 'PIN_INVALID', 'PIN_REQUIRED'].includes(err.code)) {
          c.port?.postMessage({ type: 'pin-error', error: err.toJSON() });
        } else {
          c.port?.postMessage({ type: 'failed', error: err.toJSON() });
          c.settle(err);
          // PIN_LOCKED and other failures stay on screen until the person closes the window.
        }
      } finally {
        c.busy = false;
      }
      break;
    }
    default:
      break;
  }
}

export { core };
