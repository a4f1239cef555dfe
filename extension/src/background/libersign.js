// @ts-check
// The LiberSign-compatible interface, background side (docs/LIBERSIGN.md): a thin adapter
// over the same operations as the page API (list certificates, one consent, login, N × sign,
// logout), with the formats LiberSign pages ask for built by the WASM core.
//
// - Which pages get `window.LiberSign`: the origins in the options and in policy
//   (common/allowlist.js). This module registers content/libersign-page.js (MAIN world) and
//   content/libersign-relay.js for exactly those, and again whenever a list changes.
// - Each request arrives on a runtime port named "libersign" from the relay; the origin is
//   the sender frame's, as the browser reports it (origin.js: an opaque origin is refused),
//   checked against the lists every time. Every format is built by the WASM core (CMS, PES
//   XAdES, iParapheur's PAdES): logins are `sign-structured`, so dual-use keys may sign here.
//   The port carries `{progress}` messages, then one `{reply}`: LiberSign's answer fields
//   (`result: "ok"` and `certs|sign|version|hash|libersign`, or `result: "error"`,
//   `exception`, `code`).
import { api, ParapheError, t } from '../common/api.js';
import { libersignOrigins, LIBERSIGN_ORIGINS } from '../common/allowlist.js';
import * as store from '../common/store.js';
import * as batch from './batch.js';
import { certificateChoices } from './choices.js';
import * as core from './core.js';
import { ready } from './core.js';
import * as consent from './consent.js';
import * as native from './native.js';
import { webPageOrigin } from './origin.js';
import * as sessions from './sessions.js';
import { settings } from './settings.js';
import { signHash } from './sign.js';

export const PORT_NAME = 'libersign';
const POLICY_SEEN = 'libersignPolicySeen';
const VERSION = api.runtime.getManifest().version;
const SCRIPTS = {
  page: { id: 'libersign-page', js: ['content/libersign-page.js'], world: /** @type {'MAIN'} */ ('MAIN') },
  relay: { id: 'libersign-relay', js: ['content/shared.js', 'content/activation.js', 'content/libersign-relay.js'] },
};
// Firefox match patterns cannot name a port: there the scripts go to every port of an
// allowed host, and the background still answers only the exact origins listed.
const PATTERNS_HAVE_PORTS = !api.runtime.getURL('').startsWith('moz-extension:');

// ---- which pages get the interface ---------------------------------------------------------

/** The origins the interface is on: listed, and passing the page API's own origin rule. */
export async function enabledOrigins() {
  await ready;
  const { allowLoopbackHttp } = await settings();
  const { user, managed } = await libersignOrigins();
  const { [POLICY_SEEN]: seen } = await store.get([POLICY_SEEN]);
  if ([...(seen ?? [])].sort().join(' ') !== [...managed].sort().join(' ')) await store.set({ [POLICY_SEEN]: managed }).catch(() => {});
  return [...new Set([...managed, ...user])].filter((origin) => {
    try {
      core.checkOrigin(origin, allowLoopbackHttp);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The sites known without asking the policy: the person's https origins and the policy's as
 * last read. Chromium answers `storage.managed` only once it has loaded the extension's
 * policy, which after a browser start or on a fresh profile takes seconds and waits as long as
 * pages keep loading (measured: a page reloaded every second kept it waiting for minutes), and
 * Chromium drops registered scripts when an extension is updated or reloaded. These are in our
 * IndexedDB and answer at once. A site the policy dropped meanwhile keeps the object until the
 * policy answers, but no request of it is served: `request` checks the live lists every time.
 */
async function knownOrigins() {
  await ready;
  const { user } = await libersignOrigins({ managed: false });
  const { [POLICY_SEEN]: seen } = await store.get([POLICY_SEEN]);
  return [...new Set([...(seen ?? []), ...user])].filter((origin) => {
    try {
      core.checkOrigin(origin, false);
      return true;
    } catch {
      return false;
    }
  });
}

/** The match pattern of the pages of `origin` (an origin that passed the checks). @param {string} origin */
export function matchPattern(origin) {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}${PATTERNS_HAVE_PORTS && url.port ? `:${url.port}` : ''}/*`;
}

/**
 * Brings the registered scripts to `origins`. `addOnly`: only adds to what is registered
 * (scripts persisted from the last session, e.g. the policy's sites, stay while the policy
 * is not known yet). Returns the match patterns added.
 * @param {string[]} origins
 * @param {{addOnly?: boolean}} [options]
 * @returns {Promise<string[]>}
 */
async function registerScripts(origins, { addOnly = false } = {}) {
  const ids = Object.values(SCRIPTS).map((s) => s.id);
  const registered = await api.scripting.getRegisteredContentScripts({ ids });
  const before = new Set(registered.length === ids.length ? registered[0].matches ?? [] : []);
  let matches = [...new Set(origins.map(matchPattern))];
  if (addOnly) matches = [...new Set([...before, ...matches])];
  matches.sort();
  /** @typedef {chrome.scripting.RegisteredContentScript} Registered */
  const current = (/** @type {Registered} */ s) => [...(s?.matches ?? [])].sort().join(' ');
  // The same sites and the same files (an update may have changed the files).
  const sameFiles = (/** @type {Registered} */ s) => (s.js ?? []).join(' ') === Object.values(SCRIPTS).find((x) => x.id === s.id)?.js.join(' ');
  if (registered.length === ids.length && registered.every((s) => current(s) === matches.join(' ') && sameFiles(s))) return [];
  const scripts = /** @type {chrome.scripting.RegisteredContentScript[]} */ (Object.values(SCRIPTS).map((s) => ({
    ...s, matches, runAt: 'document_start', allFrames: true, persistAcrossSessions: true,
  })));
  if (registered.length === ids.length && registered.every(sameFiles) && matches.length > 0) {
    // In place: no moment without the scripts on the sites that keep them.
    await api.scripting.updateContentScripts(scripts);
  } else {
    if (registered.length > 0) await api.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
    if (matches.length > 0) await api.scripting.registerContentScripts(scripts);
  }
  return matches.filter((m) => !before.has(m));
}

/**
 * Pages of newly allowed sites that are already open (loaded before the scripts were
 * registered: right after install, update or browser start, or before the allow-list
 * changed) get the interface now, in their frames of an allowed origin that lack it, as the
 * registered scripts would have given it. A page that tested `typeof LiberSign` while it was
 * missing must be reloaded; a page that tests it later (iParapheur 4 opens its signing view
 * without reloading) finds it.
 * @param {string[]} patterns @param {string[]} origins
 */
async function injectOpenPages(patterns, origins) {
  if (patterns.length === 0) return;
  const allowed = new Set(origins);
  const tabs = await api.tabs.query({ url: patterns }).catch(() => []);
  for (const tab of tabs) {
    const tabId = tab.id;
    if (tabId === undefined) continue;
    try {
      const probes = await api.scripting.executeScript({
        target: { tabId, allFrames: true },
        world: 'MAIN',
        func: () => [window.origin, typeof (/** @type {any} */ (window)).LiberSign],
      });
      const frameIds = probes.filter((p) => Array.isArray(p.result) && allowed.has(p.result[0]) && p.result[1] === 'undefined')
        .map((p) => p.frameId);
      if (frameIds.length === 0) continue;
      await api.scripting.executeScript({ target: { tabId, frameIds }, files: SCRIPTS.relay.js });
      await api.scripting.executeScript({ target: { tabId, frameIds }, world: 'MAIN', files: SCRIPTS.page.js });
    } catch (e) {
      console.warn('LiberSign: open page', e); // a tab that closed or navigated meanwhile
    }
  }
}

let registering = Promise.resolve();
/** Brings the registered scripts in line with the lists (one update at a time). */
export function syncScripts() {
  registering = registering.then(async () => {
    const origins = await enabledOrigins();
    await injectOpenPages(await registerScripts(origins), origins);
  }).catch((e) => console.warn('LiberSign scripts:', e));
  return registering;
}

// The person's list or the loopback option changed (common/store.js), or the policy did.
store.onChanged((keys) => {
  if (keys.includes(LIBERSIGN_ORIGINS) || keys.includes('allowLoopbackHttp')) syncScripts();
});
api.storage.onChanged.addListener((changes, area) => {
  if (area === 'managed' && (LIBERSIGN_ORIGINS in changes || 'allowLoopbackHttp' in changes)) syncScripts();
});
// Every time the background starts (browser start, install, update: an update clears
// Chromium's registered scripts; a policy may have changed while it was stopped): first the
// sites known without the policy, added at once, then everything once the policy answers.
registering = knownOrigins()
  .then(async (origins) => injectOpenPages(await registerScripts(origins, { addOnly: true }), origins))
  .catch((e) => console.warn('LiberSign scripts:', e));
syncScripts();

// ---- requests --------------------------------------------------------------------------------

/**
 * What content/libersign-relay.js sends: the page's LiberSign request (each field the page's
 * word, checked here), with the frame's origin and activation as the content script saw them.
 * @typedef {{action?: unknown, cert?: unknown, sign?: unknown, frameOrigin?: unknown, activation?: unknown} | null | undefined} RelayMessage
 */

/** A LiberSign relay connected (port `libersign`). @param {chrome.runtime.Port} port */
export function onConnect(port) {
  let used = false;
  port.onMessage.addListener((/** @type {RelayMessage} */ msg) => {
    if (used) return; // one request per port
    used = true;
    const progress = (/** @type {string} */ text) => {
      try {
        port.postMessage({ progress: text });
      } catch { /* the page went away */ }
    };
    request(msg, port.sender, progress)
      .then((fields) => ({ ...fields, result: 'ok' }), (e) => errorReply(ParapheError.from(e)))
      .then((reply) => {
        try {
          port.postMessage({ reply });
        } catch { /* the page went away */ }
      });
  });
}

/** @param {ParapheError} err */
function errorReply(err) {
  // LiberSign wrappers show `exception` to the person.
  const localized = api.i18n.getMessage(`error_${err.code}`);
  // A batch stopped in the middle (batch.js) says which signatureInformations entries have
  // every signature (`signed`) and which do not (`notSigned`); LiberSign gave no partial
  // answer, so the signatures themselves are not handed out.
  /** @type {{notSigned?: unknown, plan?: import('./core.js').LibersignPlanEntry[], signed?: number[]}} */
  const details = err.details;
  const partial = details?.notSigned && details.plan
    ? entriesSigned(details.plan, new Set(details.signed)) : {};
  return {
    result: 'error',
    code: err.code,
    exception: localized || `${t('errorGeneric', err.code)} ${err.message}`,
    message: err.message,
    ...partial,
  };
}

/**
 * `{signed, notSigned}`: entries (indexes of signatureInformations) by whether all their digests were signed.
 * @param {import('./core.js').LibersignPlanEntry[]} plan @param {Set<number>} signedDigests indexes in `plan`
 */
function entriesSigned(plan, signedDigests) {
  const entries = [...new Set(plan.map((e) => e.info))];
  const done = (/** @type {number} */ info) => plan.every((e, i) => e.info !== info || signedDigests.has(i));
  return { signed: entries.filter(done), notSigned: entries.filter((info) => !done(info)) };
}

/**
 * @param {RelayMessage} msg @param {chrome.runtime.MessageSender | undefined} sender
 * @param {(text: string) => void} progress
 */
async function request(msg, sender, progress) {
  const origin = await webPageOrigin(sender, msg?.frameOrigin); // opaque origins refused
  if (!(await enabledOrigins()).includes(origin)) {
    throw new ParapheError('ORIGIN_NOT_ALLOWED', `${origin} is not allowed to use the LiberSign interface`);
  }
  switch (msg?.action) {
    case 'ECHO':
      await native.helloInfo(); // the native side answers, as LiberSign's echo showed
      return { libersign: 'ECHO' };
    case 'VERSION':
      return { version: VERSION };
    case 'FULLVERSION': {
      const hello = await native.helloInfo().catch(() => null);
      return { version: `Paraphe ${VERSION}${hello ? `, paraphe-host ${hello.version}` : ''}` };
    }
    case 'GETHASH':
      // LiberSign hashed its own jar files for the update check; Paraphe has none to offer.
      return { hash: null };
    case 'LISTCERTS': {
      const list = await native.call('list-certificates', {});
      return { certs: await core.libersignCertificates(list) };
    }
    case 'SIGN': {
      // The consent window rules (consent.js): activation, a visible tab, one at a time.
      // A web page's frame (webPageOrigin checked): the sender is the browser's.
      // LiberSign v2's request is checked here, so bad input fails before any window.
      const v2 = isDataToSign(msg.sign) ? dataToSignRequest(msg) : null;
      return {
        sign: await consent.fromTab(sender, msg.activation === true, () => (v2
          ? signDataToSign(v2, origin, /** @type {chrome.runtime.MessageSender} */ (sender), progress)
          : sign(msg, origin, /** @type {chrome.runtime.MessageSender} */ (sender), progress))),
      };
    }
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown action');
  }
}

/** LiberSign v2's request (Pastell 4's `<ls-libersign>`): `{dataToSign: ['<base64>'…]}`, not an array. */
const isDataToSign = (/** @type {unknown} */ infos) => infos !== null && typeof infos === 'object' && !Array.isArray(infos) && 'dataToSign' in infos;

/**
 * LiberSign v2: each `dataToSign` is the bytes a DSS-based service prepared (Libriciel's crypto
 * service, for Pastell 4); the answer is one base64 signature value per entry, in order. The
 * page API's own path (`signData`, as NexU's): SHA256withRSA (ECDSA: DER), one consent window
 * listing the digests, login purpose `sign-raw`, so a certificate that can log in is refused
 * (RAW_SIGNATURE_REFUSED): these bytes are the page's choice.
 * @param {NonNullable<RelayMessage>} msg its `sign` passed isDataToSign
 */
function dataToSignRequest(msg) {
  const list = /** @type {{dataToSign: unknown}} */ (msg.sign).dataToSign;
  if (!Array.isArray(list) || list.length === 0 || !list.every((d) => typeof d === 'string')) {
    throw new ParapheError('INVALID_REQUEST', 'dataToSign must be a non-empty array of base64 strings');
  }
  const cert = msg.cert && typeof msg.cert === 'object' ? /** @type {{ID?: unknown}} */ (msg.cert).ID : msg.cert;
  const fingerprint = String(cert ?? '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new ParapheError('INVALID_REQUEST', 'sign needs a certificate ID from getCertificates');
  // signData comes back validated as a signHash of the data's digests (wasm/src/request.rs).
  return /** @type {import('./core.js').SignHashRequest} */ (core.validateRequest(JSON.stringify({
    type: 'signData',
    data: list.map((data, i) => ({ data, name: t('libersignItemData', i + 1, list.length) })),
    hashAlgorithm: 'sha256',
    certificate: fingerprint,
  })));
}

/**
 * @param {import('./core.js').SignHashRequest} request @param {string} origin
 * @param {chrome.runtime.MessageSender} sender @param {(text: string) => void} progress
 */
async function signDataToSign(request, origin, sender, progress) {
  progress(t('libersignProgressConsent'));
  const result = await signHash(request, origin, sender, ({ done, total }) => {
    progress(done < total ? t('libersignProgressSigning', done + 1, total) : t('libersignProgressDone'));
  });
  return result.signatures.map((/** @type {{signature: string}} */ s) => s.signature);
}

/** @param {import('./core.js').LibersignPlanEntry} entry */
function itemName(entry) {
  if (entry.kind === 'pes') return t('libersignItemPes', entry.label ?? '');
  if (entry.kind === 'pades') return entry.label ? t('libersignItemPdfNamed', entry.label) : t('libersignItemPdf');
  return entry.label ? t('libersignItemCmsNamed', entry.label) : t('libersignItemCms');
}

/**
 * One consent, one PIN, every digest of every `signatureInformations` entry, in order.
 * @param {NonNullable<RelayMessage>} msg @param {string} origin @param {chrome.runtime.MessageSender} sender
 * @param {(text: string) => void} progress
 */
async function sign(msg, origin, sender, progress) {
  const infos = /** @type {unknown[]} */ (msg.sign); // an array: libersignPlan checked it
  const plan = await core.libersignPlan(infos);
  const cert = msg.cert && typeof msg.cert === 'object' ? /** @type {{ID?: unknown}} */ (msg.cert).ID : msg.cert; // an ID, or a certificate object
  const fingerprint = String(cert ?? '').toLowerCase();
  const release = native.hold();
  try {
    const chosen = (await certificateChoices('signing')).choices.find((c) => c.fingerprint === fingerprint);
    if (!chosen || chosen.expired) {
      throw new ParapheError('NO_CERTIFICATE', 'the chosen certificate is not on a connected token, or has expired');
    }
    // A page value the format refuses (a bad Id, a p7s for another document…) fails here,
    // before any window opens.
    for (const entry of plan) await batch.prepare(entry.job, chosen);

    progress(t('libersignProgressConsent'));
    const view = {
      origin,
      purpose: 'sign-structured',
      tabTitle: sender.tab?.title ?? '',
      tabId: sender.tab?.id,
      items: plan.map((entry) => ({ hex: entry.hex, hashAlgorithm: entry.hashAlgorithm, name: itemName(entry) })),
      choices: [chosen],
    };
    const signed = await consent.ask(view, (c, pin, window) => sessions.withLogin(c, pin, (session) => {
      progress(t('libersignProgressSigning', 1, plan.length));
      return batch.run(plan.map((entry) => ({ format: entry.job })), {
        choice: c,
        session,
        window,
        report: (done) => progress(done < plan.length ? t('libersignProgressSigning', done + 1, plan.length) : t('libersignProgressDone')),
      });
    }, 'sign-structured')).catch((e) => {
      const err = ParapheError.from(e);
      if (err.details?.notSigned) throw new ParapheError(err.code, err.message, { ...err.details, plan });
      throw err;
    });
    /** @type {string[][]} */
    const answer = infos.map(() => []);
    // As LiberSign answered: CMS (and PAdES, the SignedData iParapheur's server writes into
    // the PDF) as base64 of a PEM `PKCS7` document (what s2low's actes_transac_sign.php hands
    // to `openssl pkcs7` and `openssl smime -inform PEM`).
    for (const [i, entry] of plan.entries()) answer[entry.info].push(await core.libersignAnswer(entry.kind, signed[i].signature));
    return answer.map((parts) => parts.join(','));
  } finally {
    release();
  }
}
