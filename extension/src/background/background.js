// Background of the extension: a module service worker in Chromium, a module event page in
// Firefox (same file). Listeners are registered synchronously at the top level, because
// the browser may stop this context when idle and restarts it for the next event.
//
// Who may ask what:
//   content script (any tab) → runtime port "page": {request}    page API, origin from `sender`;
//                              answers {progress}…, then {result} | {error}
//                              {kind:"webeid", request}         Web eID messages (webeid.js)
//                              runtime port "hash": document digests (onHashPort)
//                              {kind:"pli-start"|"pli-chunk"|"pli-open"|"pli-finish"|"pli-read"|"pli-abort"}  plis (pli.js)
//   « Ouvrir un pli » page  → {kind:"pli-unwrap"}
//   popup                   → {kind:"status"}, {kind:"logout-all"} (« Oublier le code PIN »)
//   options page            → {kind:"status"}, {kind:"tls", register} (tls.js: Chromium's NSS database)
//   consent window          → runtime port "consent:<id>" (consent.js)
//   popup, diagnostics, consent window → runtime port "cards" (cards.js); diagnostics page →
//                              {kind:"diagnostics"|"test-signature"} (diagnostics.js)
//   LiberSign relay         → runtime port "libersign", one request each (libersign.js)
//   options page            → {kind:"store-changed"} after it changed a setting (common/store.js)
//
// Requests that open a consent window pass consent.admit first (user activation, a visible
// tab, one window per tab: docs/SECURITY.md « Consent windows »).
import { api, ParapheError } from '../common/api.js';
import { authenticate } from './authenticate.js';
import { certificateChoices } from './choices.js';
import { core, ready } from './core.js';
import * as cards from './cards.js';
import * as consent from './consent.js';
import * as diagnostics from './diagnostics.js';
import * as disclosure from './disclosure.js';
import * as libersign from './libersign.js';
import * as native from './native.js';
import * as pli from './pli.js';
import * as sessions from './sessions.js';
import { settings } from './settings.js';
import { signHash } from './sign.js';
import { tls } from './tls.js';
import * as webeid from './webeid.js';

const VERSION = api.runtime.getManifest().version;

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
  if (port.name === 'page') onPagePort(port);
  else if (port.name === 'hash') onHashPort(port);
  else if (port.name.startsWith('consent:')) consent.onConnect(port);
  else if (port.name === libersign.PORT_NAME) libersign.onConnect(port);
  else if (port.name === cards.PORT_NAME) cards.onConnect(port); // live readers and cards
  else port.disconnect();
});

api.windows.onRemoved.addListener((windowId) => consent.onWindowRemoved(windowId));

/** The origin of the frame that sent a message, as the browser knows it. */
function senderOrigin(sender) {
  if (sender.origin && sender.origin !== 'null') return sender.origin;
  try {
    return new URL(sender.url).origin;
  } catch {
    return 'null';
  }
}

const fromPage = (sender) => sender.tab && sender.url && !sender.url.startsWith(api.runtime.getURL(''));
const fromExtensionPage = (sender) => sender.url?.startsWith(api.runtime.getURL(''));

/** One page API request per port, so that long work can report progress before its answer. */
function onPagePort(port) {
  const post = (m) => {
    try {
      port.postMessage(m);
    } catch { /* the page went away */ }
  };
  port.onMessage.addListener(function once(msg) {
    port.onMessage.removeListener(once);
    pageMessage(msg, port.sender, (progress) => post({ progress }))
      .then((result) => post({ result }), (e) => post({ error: ParapheError.from(e).toJSON() }));
  });
}

/** The origin of a web page that may use the page API (https, or loopback for developers). */
async function webPageOrigin(sender) {
  await ready;
  if (!fromPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'not from a web page');
  const origin = senderOrigin(sender);
  core().check_origin(origin, (await settings()).allowLoopbackHttp);
  return origin;
}

async function pageMessage(msg, sender, progress) {
  const origin = await webPageOrigin(sender);
  const request = JSON.parse(core().validate_request(String(msg?.request)));
  const activation = msg?.activation === true; // content/activation.js
  // Requests that always open a consent window (listCertificates opens one only the first time).
  if (WINDOWED.has(request.type)) {
    return consent.fromTab(sender, activation, () => pageRequest(request, origin, sender, progress, activation));
  }
  return pageRequest(request, origin, sender, progress, activation);
}
const WINDOWED = new Set(['signHash', 'authenticate']);

/** Web eID requests that open a window pass consent.admit; a refusal is a Web eID failure. */
async function webeidRequest(msg, sender) {
  const text = String(msg.request);
  let action = null;
  try {
    action = JSON.parse(text)?.action;
  } catch { /* webeid.handle says why */ }
  if (!['web-eid:authenticate', 'web-eid:get-signing-certificate', 'web-eid:sign'].includes(action)) {
    return webeid.handle(text, senderOrigin(sender), sender);
  }
  let end;
  try {
    end = await consent.admit(sender, msg.activation === true);
  } catch (e) {
    const err = ParapheError.from(e);
    return { action: `${action}-failure`, error: JSON.parse(core().webeid_error(err.code, err.message)) };
  }
  try {
    return await webeid.handle(text, senderOrigin(sender), sender);
  } finally {
    end();
  }
}

async function handle(msg, sender) {
  await ready;
  switch (msg?.kind) {
    case 'webeid':
      if (!fromPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'not from a web page');
      return webeidRequest(msg, sender);
    case 'pli-start':
    case 'pli-chunk':
    case 'pli-open':
    case 'pli-finish':
    case 'pli-read':
    case 'pli-abort':
      return pli.fromPage(msg, await webPageOrigin(sender), sender);
    case 'pli-unwrap':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return pli.fromExtensionPage(msg, sender);
    case 'diagnostics': // « Tester ma carte » (diagnostics.js)
    case 'test-signature':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return diagnostics.handle(msg, sender);
    case 'status':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return status('any');
    case 'tls': // options page: the token's module in Chromium's NSS database (tls.js)
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return tls(msg.register === true);
    case 'logout-all':
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      return { ended: sessions.logoutAll() };
    case 'store-changed': // common/store.js's own listener acts on it
      return {};
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown message');
  }
}

async function pageRequest(request, origin, sender, progress, activation) {
  switch (request.type) {
    case 'ping':
      return { version: VERSION, protocol: core().protocol_version() };
    case 'status': {
      // A token's label and serial often name its holder: only for sites the person allowed.
      const s = await status('signing');
      const shown = await disclosure.allowed(origin);
      return {
        host: s.host,
        tokens: s.tokens.map(({ label, manufacturer, model, serial }) => (shown
          ? { label, manufacturer, model, serial }
          : { label: null, manufacturer, model, serial: null })),
      };
    }
    case 'listCertificates': {
      const s = await status(request.usage);
      if (s.certificates.length > 0 && !(await disclosure.allowed(origin))) {
        await consent.fromTab(sender, activation, () => disclosure.ask(origin, sender.tab?.title ?? '', s.certificates));
      }
      return { certificates: s.certificates.map(publicCertificate) };
    }
    case 'signHash':
      return signHash(request, origin, sender, progress);
    case 'authenticate':
      return { token: await authenticate({ origin, challengeNonce: request.challengeNonce, tabTitle: sender.tab?.title ?? '' }) };
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown request');
  }
}

/** What a page learns about a certificate: what is in the certificate itself, nothing more. */
function publicCertificate(c) {
  const { fingerprint, certificate, holder, issuer, notAfter, rgsLevel, keyType, keyBits, curve, usages, qualified } = c;
  return { fingerprint, certificate, holder, issuer, notAfter, rgsLevel, keyType, keyBits, curve, usages, qualified };
}

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
 */
function onHashPort(port) {
  let hasher = null;
  const fail = (e) => {
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
  const start = webPageOrigin(port.sender);
  // Messages are handled in order: each waits for the checks, then runs synchronously.
  let queue = start;
  port.onMessage.addListener((msg) => {
    queue = queue.then(() => {
      if (msg?.algorithm !== undefined) {
        if (hasher) throw new ParapheError('INVALID_REQUEST', 'one hash per port');
        if ((openHashes.get(tabId) ?? 0) >= MAX_HASHES_PER_TAB || hashesOpen() >= MAX_HASHES) {
          throw new ParapheError('INVALID_REQUEST', 'too many documents hashed at once');
        }
        hasher = new (core().Hasher)(String(msg.algorithm));
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
