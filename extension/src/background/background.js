// @ts-check
// Background of the extension: a module service worker in Chromium, a module event page in
// Firefox (same file). Listeners are registered synchronously at the top level, because
// the browser may stop this context when idle and restarts it for the next event.
//
// Who may ask what:
//   content script (any tab) → runtime port "page": {request}    page API, origin from `sender`;
//                              answers {progress}…, then {result} | {error}; may {ask} the
//                              content script (PAdES layouts), answered {answer}
//                              {kind:"webeid", request}         Web eID messages (webeid.js)
//                              runtime port "hash": document digests (onHashPort), only where
//                              the extension frame (frame/frame.js) cannot start
//                              {kind:"pli-start"|"pli-chunk"|"pli-open"|"pli-finish"|"pli-read"|"pli-abort"}  plis (pli.js)
//                              {kind:"check-files", request}   signDocument(s) and decrypt checked before
//                                                              their files are read: the origin, then the
//                                                              request (wasm/src/request.rs)
//   extension frame (frame/frame.js, in a web page's tab) → {kind:"pli-frame-open"|"pli-frame-file"|"pli-frame-progress"|"pli-frame-end"|"pdf-frame-layout"}
//                              for the pli job its content script started (pli.js)
//   « Ouvrir un pli » page  → {kind:"pli-unwrap"}
//   « Signer des fichiers » page → runtime port "sign-files": {requests} (signFilesMessage), as
//                              the page port: {progress}…, {ask} (PAdES layouts), {result} | {error}
//   popup                   → {kind:"status"}, {kind:"logout-all"} (« Oublier le code PIN »)
//   options page            → {kind:"status"}, {kind:"tls", register} (tls.js: Chromium's NSS database)
//   consent window          → runtime port "consent:<id>" (consent.js)
//   popup, diagnostics, consent window → runtime port "cards" (cards.js); diagnostics page →
//                              {kind:"diagnostics"|"test-signature"} (diagnostics.js)
//   LiberSign relay         → runtime port "libersign", one request each (libersign.js)
//   NexU relay              → runtime port "nexu", one request each (nexu.js)
//   radar (content/radar.js) → {kind:"radar", findings}; popup → {kind:"radar-view"|"radar-activate"|"radar-retry", tabId} (radar.js)
//   options page            → {kind:"store-changed"} after it changed a setting (common/store.js)
//
// Requests that open a consent window pass consent.admit first (user activation, a visible
// tab, one window per tab: docs/SECURITY.md « Consent windows »).
import { api, ParapheError } from '../common/api.js';
import { authenticate } from './authenticate.js';
import { certificateChoices, noSuitableCertificate } from './choices.js';
import * as core from './core.js';
import { ready } from './core.js';
import * as cards from './cards.js';
import * as consent from './consent.js';
import * as diagnostics from './diagnostics.js';
import * as disclosure from './disclosure.js';
import * as libersign from './libersign.js';
import * as native from './native.js';
import * as nexu from './nexu.js';
import * as pli from './pli.js';
import * as radar from './radar.js';
import * as sessions from './sessions.js';
import { fromExtensionFrame, fromExtensionPage, fromPage, webPageOrigin } from './origin.js';
import { frameLayout, signHash, signRequests } from './sign.js';
import { tls } from './tls.js';
import * as webeid from './webeid.js';

const VERSION = api.runtime.getManifest().version;

/**
 * A runtime message: `kind` says which (the list above); every field is its sender's word,
 * checked where it is used.
 * @typedef {{kind?: unknown, [field: string]: unknown}} Message
 */

// Chromium: storage.local for the extension's own pages and this background only, never
// content scripts (Firefox has no such switch; the settings live in common/store.js anyway).
try {
  api.storage.local.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' })?.catch?.(() => {});
} catch { /* Firefox: only storage.session has access levels */ }

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender.id !== api.runtime.id) return false;
  handle(msg, sender)
    .then((result) => sendResponse({ result }))
    .catch((e) => sendResponse({ error: ParapheError.from(e).toJSON() }));
  return true; // answers asynchronously
});

api.runtime.onConnect.addListener((port) => {
  if (port.name === 'page') onPagePort(port, pageMessage);
  else if (port.name === 'sign-files') onPagePort(port, signFilesMessage); // « Signer des fichiers »
  else if (port.name === 'hash') onHashPort(port);
  else if (port.name.startsWith('consent:')) consent.onConnect(port);
  else if (port.name === libersign.PORT_NAME) {
    radar.note(port.sender, 'libersign', 'window.LiberSign');
    libersign.onConnect(port);
  } else if (port.name === nexu.PORT_NAME) {
    radar.note(port.sender, 'nexu', 'NexU');
    nexu.onConnect(port);
  } else if (port.name === cards.PORT_NAME) cards.onConnect(port); // live readers and cards
  else port.disconnect();
});

api.windows.onRemoved.addListener((windowId) => consent.onWindowRemoved(windowId));

/**
 * One page API request per port, so that long work can report progress before its answer.
 * The work may also ask the content script a question on the same port (`{ask: {id, …}}` →
 * `{answer: {id, result | error}}`): PAdES has it lay out each PDF in the extension frame.
 * `handler(msg, sender, progress, ask)`: pageMessage (port "page", content scripts) or
 * signFilesMessage (port "sign-files", the extension's own page).
 * @param {chrome.runtime.Port} port
 * @param {PortHandler} handler
 */
function onPagePort(port, handler) {
  const post = (/** @type {object} */ m) => {
    try {
      port.postMessage(m);
    } catch { /* the page went away */ }
  };
  /** @type {Map<unknown, {resolve: (value: unknown) => void, reject: (reason: unknown) => void}>} */
  const asks = new Map(); // id → {resolve, reject}
  let nextAsk = 0;
  let gone = false;
  /** @param {object} question */
  const ask = (question) => new Promise((resolve, reject) => {
    if (gone) {
      reject(new ParapheError('INVALID_REQUEST', 'the page went away'));
      return;
    }
    const id = ++nextAsk;
    asks.set(id, { resolve, reject });
    post({ ask: { ...question, id } });
  });
  port.onDisconnect.addListener(() => {
    gone = true;
    for (const a of asks.values()) a.reject(new ParapheError('INVALID_REQUEST', 'the page went away'));
    asks.clear();
  });
  let first = true;
  /**
   * The content script's: first the request, then answers to `ask` (each field its word).
   * @typedef {{answer?: {id?: unknown, result?: unknown, error?: {code?: unknown, message?: unknown}}} & PageMessage} PortMessage
   */
  port.onMessage.addListener((/** @type {PortMessage | null | undefined} */ msg) => {
    if (first) {
      first = false;
      handler(msg, port.sender, (/** @type {object} */ progress) => post({ progress }), ask)
        .then((result) => post({ result }), (e) => post({ error: ParapheError.from(e).toJSON() }));
      return;
    }
    const a = asks.get(msg?.answer?.id);
    if (!a) return;
    const answer = /** @type {NonNullable<PortMessage['answer']>} */ (msg?.answer); // found: there
    asks.delete(answer.id);
    const err = answer.error;
    if (err) a.reject(new ParapheError(String(err.code ?? 'INTERNAL'), String(err.message ?? '')));
    else a.resolve(answer.result);
  });
}

/**
 * A page API request of the content script (content/content.js `pageRequest`).
 * @typedef {{request?: unknown, requests?: unknown, frameOrigin?: unknown, activation?: unknown}} PageMessage
 */

/**
 * The work of one port (onPagePort): its first message, the port's sender, progress, questions back.
 * @typedef {(msg: PageMessage | null | undefined, port: chrome.runtime.MessageSender | undefined,
 *   progress: (progress: object) => void, ask: (question: object) => Promise<unknown>) => Promise<unknown>} PortHandler
 */

/**
 * @param {PageMessage | null | undefined} msg
 * @param {chrome.runtime.MessageSender | undefined} port the port's sender
 * @param {(progress: object) => void} progress
 * @param {(question: object) => Promise<unknown>} ask
 */
async function pageMessage(msg, port, progress, ask) {
  const origin = await webPageOrigin(port, msg?.frameOrigin);
  const sender = /** @type {chrome.runtime.MessageSender} */ (port); // a web page's frame: webPageOrigin checked
  const request = core.validateRequest(String(msg?.request));
  const activation = msg?.activation === true; // content/activation.js
  // Requests that always open a consent window (listCertificates opens one only the first time).
  if (WINDOWED.has(request.type)) {
    return consent.fromTab(sender, activation, () => pageRequest(request, origin, sender, progress, activation, ask));
  }
  return pageRequest(request, origin, sender, progress, activation, ask);
}
const WINDOWED = new Set(['signHash', 'authenticate']);

/**
 * « Signer des fichiers » (sign/sign.html): `{requests: [signHash request text…]}`, each a
 * `cades`, `xades` or `pades` request (request.rs validates them as a page's), signed as one
 * batch (sign.js signRequests): one consent window, whose origin is the extension's own
 * local name (never a web origin), one PIN. The page answers PAdES layout questions itself.
 * @type {PortHandler}
 */
async function signFilesMessage(msg, port, progress, ask) {
  await ready;
  const sender = /** @type {chrome.runtime.MessageSender} */ (port);
  if (!fromExtensionPage(sender) || sender.url?.split('#')[0] !== api.runtime.getURL('sign/sign.html')) {
    throw new ParapheError('ORIGIN_NOT_ALLOWED', 'the « Signer des fichiers » page only');
  }
  const texts = Array.isArray(msg?.requests) ? msg.requests : [];
  if (texts.length === 0 || texts.length > 3) throw new ParapheError('INVALID_REQUEST', 'one to three requests');
  const requests = texts.map((/** @type {unknown} */ text) => {
    const request = core.validateRequest(String(text));
    if (request.type !== 'signHash' || !['cades', 'xades', 'pades'].includes(String(request.format))) {
      throw new ParapheError('INVALID_REQUEST', 'files are signed in PAdES, XAdES or CAdES');
    }
    return request;
  });
  const origin = api.i18n.getMessage('signFilesLocalOrigin') || 'Paraphe';
  return signRequests(requests, origin, sender, progress, { ask, extensionPage: true });
}

/**
 * Web eID requests that open a window pass consent.admit; a refusal is a Web eID failure.
 * @param {Message} msg @param {chrome.runtime.MessageSender} sender
 */
async function webeidRequest(msg, sender) {
  const text = String(msg.request);
  // Checked in webeid.handle, so that a refusal is a Web eID answer.
  const origin = () => webPageOrigin(sender, msg.frameOrigin);
  let action = null;
  try {
    action = JSON.parse(text)?.action;
  } catch { /* webeid.handle says why */ }
  // A refused origin (an opaque, sandboxed document…) is answered as such before any
  // question of consent: webeid.handle turns the refusal into the Web eID error.
  const originKnown = await origin().then(() => true, () => false);
  if (!originKnown || !['web-eid:authenticate', 'web-eid:get-signing-certificate', 'web-eid:sign'].includes(action)) {
    return webeid.handle(text, origin, sender);
  }
  let end;
  try {
    end = await consent.admit(sender, msg.activation === true);
  } catch (e) {
    const err = ParapheError.from(e);
    return { action: `${action}-failure`, error: core.webeidError(err.code, err.message) };
  }
  try {
    return await webeid.handle(text, origin, sender);
  } finally {
    end();
  }
}

/** @param {Message | null | undefined} msg @param {chrome.runtime.MessageSender} sender */
async function handle(msg, sender) {
  await ready;
  switch (msg?.kind) {
    case 'webeid':
      // The origin is checked in webeid.handle, so that a refusal is a Web eID answer.
      if (!fromPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'not from a web page');
      radar.note(sender, 'webeid', 'web-eid messages');
      return webeidRequest(msg, sender);
    case 'pli-start':
    case 'pli-chunk':
    case 'pli-open':
    case 'pli-finish':
    case 'pli-read':
    case 'pli-abort':
      return pli.fromPage(/** @type {Message} */ (msg), await webPageOrigin(sender, msg.frameOrigin), sender);
    case 'pli-frame-open': // the extension frame, for a job a content script started (pli.js)
    case 'pli-frame-file':
    case 'pli-frame-progress':
    case 'pli-frame-end':
      if (!fromExtensionFrame(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'the extension frame only');
      return pli.fromFrame(/** @type {Message} */ (msg), sender);
    case 'pdf-frame-layout': // the extension frame, a PAdES layout the background asked for (sign.js)
      if (!fromExtensionFrame(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'the extension frame only');
      return frameLayout(/** @type {Message} */ (msg), sender);
    case 'pli-unwrap':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return pli.fromExtensionPage(/** @type {Message} */ (msg), sender);
    case 'diagnostics': // « Tester ma carte » (diagnostics.js)
    case 'test-signature':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return diagnostics.handle(/** @type {Message} */ (msg), sender);
    case 'status':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return status('any');
    case 'tls': // options page: the token's module in Chromium's NSS database (tls.js)
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return tls(msg.register === true);
    case 'logout-all':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return { ended: sessions.logoutAll() };
    case 'check-files': // content scripts, before they read a page's files (content/shared.js)
      // The origin first: a sandboxed document's request ends here, at once (its extension
      // frame, sandboxed too, would never start: the content script waited for it in vain).
      await webPageOrigin(sender, msg.frameOrigin);
      core.validateFiles(String(msg.request));
      return {};
    case 'store-changed': // common/store.js's own listener acts on it
      return {};
    case 'radar': // content/radar.js; the popup (radar.js checks each sender)
    case 'radar-view':
    case 'radar-activate':
    case 'radar-retry':
      return radar.handle(/** @type {Message} */ (msg), sender);
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown message');
  }
}

/**
 * @param {import('./core.js').PageRequest} request validated
 * @param {string} origin the page's (origin.js)
 * @param {chrome.runtime.MessageSender} sender
 * @param {(progress: object) => void} progress
 * @param {boolean} activation
 * @param {(question: object) => Promise<unknown>} ask
 */
async function pageRequest(request, origin, sender, progress, activation, ask) {
  switch (request.type) {
    case 'ping':
      // The extension's version is for sites the person allowed (docs/SECURITY.md).
      return { version: (await disclosure.allowed(origin)) ? VERSION : null, protocol: core.protocolVersion() };
    case 'status': {
      // Token maker, model, label and serial, and the host's version, identify the person's
      // card and set-up: only for sites the person allowed. Others learn whether the host
      // answers, and nothing about tokens.
      const s = await status('signing');
      if (!(await disclosure.allowed(origin))) {
        const host = s.host.available ? { available: true, protocol: s.host.protocol } : s.host;
        return { host, tokens: null };
      }
      return {
        host: s.host,
        tokens: s.tokens.map(({ label, manufacturer, model, serial }) => ({ label, manufacturer, model, serial })),
      };
    }
    case 'listCertificates': {
      const s = await status(request.usage);
      if (!(await disclosure.allowed(origin))) {
        // With no certificate to show, the window says so and the answer waits for the
        // person as it would with certificates: a site cannot tell the two apart.
        if (s.certificates.length === 0) {
          await consent.fromTab(sender, activation, () => noSuitableCertificate(
            { origin, tabTitle: sender.tab?.title ?? '', tabId: sender.tab?.id, kind: 'certificate-list' },
            new ParapheError('NO_CERTIFICATE', 'no certificate on a connected token'),
          ).catch(() => {}), { confirmed: false });
          return { certificates: [] };
        }
        await consent.fromTab(sender, activation, () => disclosure.ask(origin, sender.tab?.title ?? '', s.certificates, sender.tab?.id));
      }
      return { certificates: s.certificates.map(publicCertificate) };
    }
    case 'signHash':
      return signHash(request, origin, sender, progress, { ask });
    case 'authenticate':
      return { token: await authenticate({ origin, challengeNonce: request.challengeNonce, tabTitle: sender.tab?.title ?? '', tabId: sender.tab?.id }) };
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown request');
  }
}

/** What a page learns about a certificate: what is in the certificate itself, nothing more. */
/** @param {import('./core.js').Choice} c */
function publicCertificate(c) {
  const { fingerprint, certificate, holder, issuer, notAfter, rgsLevel, keyType, keyBits, curve, usages, qualified } = c;
  return { fingerprint, certificate, holder, issuer, notAfter, rgsLevel, keyType, keyBits, curve, usages, qualified };
}

/**
 * @param {import('./core.js').Usage} usage
 * @returns {Promise<import('../common/types.js').StatusReply>}
 */
async function status(usage) {
  let hello;
  try {
    hello = await native.helloInfo();
  } catch (e) {
    const err = ParapheError.from(e);
    return { host: { available: false, error: err.toJSON() }, tokens: [], modules: [], certificates: [] };
  }
  const { choices: certificates, list } = await certificateChoices(usage);
  return {
    host: { available: true, version: hello.version, protocol: hello.protocol },
    tokens: list.tokens,
    modules: list.modules,
    certificates,
  };
}

// ---- document digests, fed chunk by chunk by the content script ---------------------------

// Per tab, so that one page cannot take every hasher; and in all.
const MAX_HASHES_PER_TAB = 4;
const MAX_HASHES = 16;
const openHashes = new Map(); // tab id → documents being hashed
const hashesOpen = () => [...openHashes.values()].reduce((a, b) => a + b, 0);

/**
 * Runtime port "hash": `{algorithm}`, then `{data}` chunks (base64 text in Chromium, whose
 * messages are JSON; an ArrayBuffer in Firefox, whose messages are cloned), each answered
 * `{ack}` so the content script keeps a few in flight, then `{finish}` → `{digest}`.
 * Closing the port drops the hash.
 * @param {chrome.runtime.Port} port
 */
function onHashPort(port) {
  /** @type {ReturnType<typeof core.newHasher> | null} */
  let hasher = null;
  const fail = (/** @type {unknown} */ e) => {
    try {
      port.postMessage({ error: ParapheError.from(e).toJSON() });
    } catch { /* gone */ }
  };
  const tabId = port.sender?.tab?.id ?? -1;
  const drop = () => {
    if (!hasher) return;
    hasher.free();
    hasher = null;
    const n = (openHashes.get(tabId) ?? 1) - 1;
    if (n > 0) openHashes.set(tabId, n);
    else openHashes.delete(tabId);
  };
  port.onDisconnect.addListener(drop);
  // The first message (`{algorithm, frameOrigin}`) carries the content script's report of
  // its frame's origin; every message waits for the check.
  /** @type {Promise<string> | null} */
  let start = null;
  let queue = Promise.resolve();
  /** The content script's (content/content.js `hashBlob`): each field its word. */
  port.onMessage.addListener((/** @type {{algorithm?: unknown, finish?: unknown, data?: unknown, frameOrigin?: unknown} | null | undefined} */ msg) => {
    start ??= webPageOrigin(port.sender, msg?.frameOrigin);
    queue = queue.then(() => start).then(() => {
      if (msg?.algorithm !== undefined) {
        if (hasher) throw new ParapheError('INVALID_REQUEST', 'one hash per port');
        if ((openHashes.get(tabId) ?? 0) >= MAX_HASHES_PER_TAB || hashesOpen() >= MAX_HASHES) {
          throw new ParapheError('INVALID_REQUEST', 'too many documents hashed at once');
        }
        hasher = core.newHasher(String(msg.algorithm));
        openHashes.set(tabId, (openHashes.get(tabId) ?? 0) + 1);
      } else if (!hasher) {
        throw new ParapheError('INVALID_REQUEST', 'no hash started');
      } else if (msg?.finish) {
        const digest = hasher.finish();
        drop();
        port.postMessage({ digest });
      } else if (typeof msg?.data === 'string') {
        hasher.update_base64(msg.data);
        port.postMessage({ ack: true });
      } else if (msg?.data instanceof ArrayBuffer) {
        hasher.update(new Uint8Array(msg.data));
        port.postMessage({ ack: true });
      } else {
        throw new ParapheError('INVALID_REQUEST', 'unknown message');
      }
    }).catch((e) => {
      drop();
      fail(e);
      queue = Promise.reject(e); // nothing more on this port
      queue.catch(() => {});
    });
  });
}
