// Background of the extension: a module service worker in Chromium, a module event page in
// Firefox (same file). Listeners are registered synchronously at the top level, because
// the browser may stop this context when idle and restarts it for the next event.
//
// Who may ask what:
//   content script (any tab) → runtime port "page": {request}    page API, origin from `sender`;
//                              answers {progress}…, then {result} | {error}
//                              {kind:"webeid", request}         Web eID messages (webeid.js)
//                              runtime port "hash": document digests (onHashPort)
//                              {kind:"pli-start"|"pli-chunk"|"pli-open"|"pli-finish"|"pli-abort"}  plis (pli.js)
//   « Ouvrir un pli » page  → {kind:"pli-unwrap"}
//   popup                   → {kind:"status"}, {kind:"logout-all"} (« Oublier le code PIN »)
//   options page            → {kind:"status"}, {kind:"tls", register} (tls.js: Chromium's NSS database)
//   consent window          → runtime port "consent:<id>" (consent.js)
//   popup, diagnostics, consent window → runtime port "cards" (cards.js); diagnostics page →
//                              {kind:"diagnostics"|"test-signature"} (diagnostics.js)
//   LiberSign relay         → runtime port "libersign", one request each (libersign.js)
import { api, ParapheError } from '../common/api.js';
import { authenticate } from './authenticate.js';
import { certificateChoices, noSuitableCertificate } from './choices.js';
import { core, ready } from './core.js';
import * as cards from './cards.js';
import * as consent from './consent.js';
import * as diagnostics from './diagnostics.js';
import * as disclosure from './disclosure.js';
import * as libersign from './libersign.js';
import * as native from './native.js';
import * as pli from './pli.js';
import * as sessions from './sessions.js';
import { fromExtensionPage, fromPage, webPageOrigin } from './origin.js';
import { signHash } from './sign.js';
import { tls } from './tls.js';
import * as webeid from './webeid.js';

const VERSION = api.runtime.getManifest().version;

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

async function pageMessage(msg, sender, progress) {
  const origin = await webPageOrigin(sender, msg?.frameOrigin);
  const request = JSON.parse(core().validate_request(String(msg?.request)));
  return pageRequest(request, origin, sender, progress);
}

async function handle(msg, sender) {
  await ready;
  switch (msg?.kind) {
    case 'webeid':
      // The origin is checked in webeid.handle, so that a refusal is a Web eID answer.
      if (!fromPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'not from a web page');
      return webeid.handle(String(msg.request), () => webPageOrigin(sender, msg.frameOrigin), sender);
    case 'pli-start':
    case 'pli-chunk':
    case 'pli-open':
    case 'pli-finish':
    case 'pli-abort':
      return pli.fromPage(msg, await webPageOrigin(sender, msg.frameOrigin), sender);
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
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown message');
  }
}

async function pageRequest(request, origin, sender, progress) {
  switch (request.type) {
    case 'ping':
      // The extension's version is for sites the person allowed (docs/SECURITY.md).
      return { version: (await disclosure.allowed(origin)) ? VERSION : null, protocol: core().protocol_version() };
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
          await noSuitableCertificate({ origin, tabTitle: sender.tab?.title ?? '', kind: 'certificate-list' },
            new ParapheError('NO_CERTIFICATE', 'no certificate on a connected token')).catch(() => {});
          return { certificates: [] };
        }
        await disclosure.ask(origin, sender.tab?.title ?? '', s.certificates);
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

const MAX_OPEN_HASHES = 8;
let openHashes = 0;

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
  const drop = () => {
    if (!hasher) return;
    hasher.free();
    hasher = null;
    openHashes--;
  };
  port.onDisconnect.addListener(drop);
  // The first message (`{algorithm, frameOrigin}`) carries the content script's report of
  // its frame's origin; every message waits for the check.
  let start = null;
  let queue = Promise.resolve();
  port.onMessage.addListener((msg) => {
    start ??= webPageOrigin(port.sender, msg?.frameOrigin);
    queue = queue.then(() => start).then(() => {
      if (msg?.algorithm !== undefined) {
        if (hasher) throw new ParapheError('INVALID_REQUEST', 'one hash per port');
        if (openHashes >= MAX_OPEN_HASHES) throw new ParapheError('INVALID_REQUEST', 'too many documents hashed at once');
        hasher = new (core().Hasher)(String(msg.algorithm));
        openHashes++;
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
