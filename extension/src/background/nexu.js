// NexU answered in the page (docs/RADAR.md, « NexU »): EU DSS's local signing server
// (esup-signature's Esup-DSS-Client, the DSS demonstration) listens on http://127.0.0.1:9795;
// pages detect it with GET /nexu-info, load /nexu.js and call nexu_get_certificates and
// nexu_sign_with_token_infos (REST /rest/certificates, /rest/sign). On the sites the person
// enabled (« Activer Paraphe pour ce site », or the options) and the administrator's
// `nexuOrigins`, content/nexu-page.js (MAIN world) answers those calls in the page itself:
// no local port is opened, nothing leaves the browser, and the browser's Local Network
// Access prompt never shows. Everywhere else the page's requests go to the network as usual.
//
// Each request comes from content/nexu-relay.js on a runtime port named "nexu": `{method,
// path, body}` → `{status, type, body}` as NexU's server would answer. The origin is the
// sender frame's (origin.js), checked against the lists every time.
// - `/rest/certificates`: the signing certificate that can sign data chosen by the page (a
//   raw signature: certificates that can also log in are never offered, docs/SECURITY.md
//   « Dual-use keys »); with several, the person chooses in a consent window (kind
//   `certificate`, no PIN), as NexU shows its own chooser: the page learns only the one
//   chosen. Its token and fingerprint are NexU's `tokenId` and `keyId`.
// - `/rest/sign`: `toBeSigned.bytes` (DSS's dataToSign) hashed with `digestAlgorithm` and
//   signed through the page API's own path (`signData`: consent window with the origin and
//   the digest, PIN, login `sign-raw`): PKCS#1 v1.5 for RSA, DER ECDSA, as NexU answers.
import { api, ParapheError, t } from '../common/api.js';
import * as store from '../common/store.js';
import { certificateChoices } from './choices.js';
import * as consent from './consent.js';
import { core, ready } from './core.js';
import { matchPattern } from './libersign.js';
import { webPageOrigin } from './origin.js';
import { settings } from './settings.js';
import { signHash } from './sign.js';

export const PORT_NAME = 'nexu';
export const NEXU_ORIGINS = /** @type {const} */ ('nexuOrigins');
/** What /nexu-info answers: a version esup-signature accepts (1.0, 1.8, 1.22–1.24). */
const NEXU_VERSION = '1.23';
const SCRIPTS = {
  page: { id: 'nexu-page', js: ['content/nexu-page.js'], world: 'MAIN' },
  relay: { id: 'nexu-relay', js: ['content/activation.js', 'content/nexu-relay.js'] },
};

// ---- which pages -----------------------------------------------------------------------------

/** The origins NexU is answered on: the person's list and the policy's, passing the origin rule. */
export async function enabledOrigins() {
  await ready;
  const { allowLoopbackHttp } = await settings();
  const { [NEXU_ORIGINS]: user } = await store.get([NEXU_ORIGINS]);
  /** @type {unknown} */
  let managed = [];
  try {
    ({ [NEXU_ORIGINS]: managed = [] } = await api.storage.managed.get(NEXU_ORIGINS));
  } catch { /* no policy */ }
  const all = [...(Array.isArray(managed) ? managed.map(store.normalizeOrigin).filter((o) => o !== null) : []), ...(user ?? [])];
  return [...new Set(all)].filter((origin) => {
    try {
      core().check_origin(origin, allowLoopbackHttp);
      return true;
    } catch {
      return false;
    }
  });
}

/** @param {string} origin @param {boolean} enabled */
export function setOrigin(origin, enabled) {
  return store.updateList(NEXU_ORIGINS, origin, enabled);
}

async function registerScripts() {
  const matches = [...new Set((await enabledOrigins()).map(matchPattern))].sort();
  const ids = Object.values(SCRIPTS).map((s) => s.id);
  const registered = await api.scripting.getRegisteredContentScripts({ ids });
  const same = (/** @type {chrome.scripting.RegisteredContentScript} */ s) => [...(s.matches ?? [])].sort().join(' ') === matches.join(' ')
    && (s.js ?? []).join(' ') === Object.values(SCRIPTS).find((x) => x.id === s.id)?.js.join(' ');
  if (registered.length === ids.length && registered.every(same)) return;
  if (registered.length > 0) await api.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
  if (matches.length === 0) return;
  await api.scripting.registerContentScripts(/** @type {chrome.scripting.RegisteredContentScript[]} */ (Object.values(SCRIPTS).map((s) => ({
    ...s, matches, runAt: 'document_start', allFrames: true, persistAcrossSessions: true,
  }))));
}

let registering = Promise.resolve();
export function syncScripts() {
  registering = registering.then(registerScripts).catch((e) => console.warn('NexU scripts:', e));
  return registering;
}
store.onChanged((keys) => {
  if (keys.includes(NEXU_ORIGINS) || keys.includes('allowLoopbackHttp')) syncScripts();
});
api.storage.onChanged.addListener((changes, area) => {
  if (area === 'managed' && (NEXU_ORIGINS in changes || 'allowLoopbackHttp' in changes)) syncScripts();
});
syncScripts();

// ---- requests ----------------------------------------------------------------------------------

/**
 * What content/nexu-relay.js sends: the page's call as the page gave it (each field the
 * page's word, checked here).
 * @typedef {{method?: unknown, path?: unknown, body?: unknown, frameOrigin?: unknown, activation?: unknown} | null | undefined} RelayMessage
 */

/** A NexU relay connected (port `nexu`). @param {chrome.runtime.Port} port */
export function onConnect(port) {
  let used = false;
  port.onMessage.addListener((/** @type {RelayMessage} */ msg) => {
    if (used) return;
    used = true;
    answer(msg, port.sender).then((reply) => {
      try {
        port.postMessage({ reply });
      } catch { /* the page went away */ }
    });
  });
}

const json = (/** @type {number} */ status, /** @type {unknown} */ value) => ({ status, type: 'application/json', body: JSON.stringify(value) });

/** NexU's error shape (`success: false`), which esup-signature reads as `responseJSON`. @param {unknown} e */
function failure(e) {
  const err = ParapheError.from(e);
  const text = api.i18n.getMessage(`error_${err.code}`) || `${t('errorGeneric', err.code)} ${err.message}`;
  const status = err.code === 'ORIGIN_NOT_ALLOWED' ? 403 : err.code === 'INVALID_REQUEST' ? 400 : 500;
  return json(status, { success: false, response: null, error: err.code, errorMessage: text, feedback: null });
}

/**
 * @param {RelayMessage} msg @param {chrome.runtime.MessageSender | undefined} sender
 * @returns {Promise<{status: number, type: string, body: string}>}
 */
async function answer(msg, sender) {
  try {
    const origin = await webPageOrigin(sender, msg?.frameOrigin);
    if (!(await enabledOrigins()).includes(origin)) {
      throw new ParapheError('ORIGIN_NOT_ALLOWED', `${origin} is not enabled for NexU`);
    }
    const path = String(msg?.path ?? '');
    const method = String(msg?.method ?? 'GET').toUpperCase();
    if (path === '/nexu-info') return json(200, { version: NEXU_VERSION, product: 'Paraphe' });
    if (path === '/nexu.js') return { status: 200, type: 'text/javascript', body: '' }; // nexu-page.js defines it
    if (method !== 'POST') throw new ParapheError('INVALID_REQUEST', `${method} ${path}`);
    let body;
    try {
      body = typeof msg?.body === 'string' && msg.body.length > 0 ? JSON.parse(msg.body) : {};
    } catch {
      throw new ParapheError('INVALID_REQUEST', 'the request body is not JSON');
    }
    // A web page's frame (webPageOrigin checked): the sender is the browser's.
    const from = /** @type {chrome.runtime.MessageSender} */ (sender);
    if (path === '/rest/certificates') return json(200, await certificates(origin, from, msg?.activation === true));
    if (path === '/rest/sign') {
      return json(200, await consent.fromTab(from, msg?.activation === true, () => sign(body, origin, from)));
    }
    throw new ParapheError('INVALID_REQUEST', `unknown NexU call ${path.slice(0, 60)}`);
  } catch (e) {
    return failure(e);
  }
}

/** Certificates that may sign data the page chose: signing, valid, not able to log in. */
async function rawSigners() {
  const { choices } = await certificateChoices('signing');
  return choices.filter((c) => !c.expired && !c.loginCapable);
}

/**
 * NexU's certificate: the only one that fits, or the one the person chose among several in a
 * consent window (opened, as every consent window, only for a page the person is using).
 * @param {string} origin @param {chrome.runtime.MessageSender} sender @param {boolean} activation
 */
async function certificates(origin, sender, activation) {
  const signers = await rawSigners();
  if (signers.length === 0) {
    throw new ParapheError('NO_CERTIFICATE', 'no signing certificate on a connected token can sign data chosen by a page');
  }
  const c = signers.length === 1 ? signers[0] : await consent.fromTab(sender, activation, () => consent.ask(
    { kind: 'certificate', origin, tabTitle: sender.tab?.title ?? '', tabId: sender.tab?.id, items: [], choices: signers },
    async (choice) => choice,
  ));
  return {
    success: true,
    response: {
      tokenId: { id: String(c.token) },
      keyId: c.fingerprint,
      certificate: c.certificate,
      certificateChain: [c.certificate],
      encryptionAlgorithm: c.keyType === 'EC' ? 'ECDSA' : 'RSA',
    },
    feedback: null,
  };
}

/** @type {Record<string, string>} */
const DIGESTS = { SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

/**
 * @param {{keyId?: unknown, toBeSigned?: {bytes?: unknown} | null, digestAlgorithm?: unknown} | null} body
 *   the page's JSON (each field the page's word, checked below)
 * @param {string} origin @param {chrome.runtime.MessageSender} sender
 */
async function sign(body, origin, sender) {
  const keyId = String(body?.keyId ?? '').toLowerCase();
  const bytes = body?.toBeSigned?.bytes;
  const digest = DIGESTS[String(body?.digestAlgorithm ?? 'SHA256').toUpperCase().replace('-', '')];
  if (!/^[0-9a-f]{64}$/.test(keyId) || typeof bytes !== 'string' || !digest) {
    throw new ParapheError('INVALID_REQUEST', 'keyId, toBeSigned.bytes and a SHA-2 digestAlgorithm are needed');
  }
  const request = JSON.parse(core().validate_request(JSON.stringify({
    type: 'signData', data: bytes, hashAlgorithm: digest, name: 'dataToSign (NexU)', certificate: keyId,
  })));
  const result = await signHash(request, origin, sender);
  const s = result.signatures[0];
  const algorithm = `${s.scheme === 'ecdsa' ? 'ECDSA' : 'RSA'}_${digest.toUpperCase()}`;
  return { success: true, response: { signatureValue: { algorithm, value: s.signature } }, feedback: null };
}
