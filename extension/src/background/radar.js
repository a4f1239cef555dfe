// The radar, background side (docs/RADAR.md): what each tab's page asked of a signing client,
// from three local sources that the page cannot see:
// - content/radar.js (isolated world, registered here while the radar is on): marks in the
//   DOM (script URLs, inline script text, applets, `afirma://` / `eudss://` / `.jnlp` links);
// - webRequest.onBeforeRequest: requests for a client's files or local server (NexU on
//   127.0.0.1:9795, Fortify on :31337, `/libersign/` update URLs, `scwsapi.js`…), whatever
//   script made them;
// - webRequest.onErrorOccurred: TLS handshakes that failed for want of a client certificate;
//   a server that refuses after the handshake (nginx's HTTP 400 « No required SSL
//   certificate was sent ») is seen by the content script, from the page it sent.
// Nothing leaves the browser. Findings are kept per tab (storage.session, so that a stopped
// service worker keeps them) until the tab loads another page, and shown as a badge on the
// toolbar icon and in the popup (popup/radar.js), with one action each:
// - LiberSign, NexU: « Activer Paraphe pour ce site » adds the tab's origin to the person's
//   list (libersignOrigins / nexuOrigins in common/store.js) and reloads the tab; a policy can
//   forbid it (`radarActivation: false`) or have approved the origin already;
// - TLS client authentication: the set-up of options/tls.js, then « Réessayer »;
// - Web eID: served already; the others (SCWS, Fortify, Atexo, AutoFirma, EU DSS Sign, Java):
//   what they are and why Paraphe cannot answer them.
//
// Messages: content script {kind: "radar", findings}; popup {kind: "radar-view", tabId} →
// the view; {kind: "radar-activate", tabId}; {kind: "radar-retry", tabId}.
import '../common/radar-rules.js';
import { api, ParapheError } from '../common/api.js';
import { setLibersignOrigin } from '../common/allowlist.js';
import * as store from '../common/store.js';
import { certificateChoices } from './choices.js';
import { core, ready } from './core.js';
import * as libersign from './libersign.js';
import * as nexu from './nexu.js';
import { fromExtensionPage, fromPage, senderOrigin } from './origin.js';
import { settings } from './settings.js';

const RULES = globalThis.parapheRadarRules;
const SCRIPT = {
  id: 'radar',
  js: ['common/radar-rules.js', 'content/radar.js'],
  matches: ['https://*/*', 'http://*/*'],
  runAt: 'document_idle',
  allFrames: true,
};
/**
 * What Paraphe can do for each kind: serve it once enabled, serve it already, or explain.
 * @type {Record<string, 'activate' | 'tls' | 'served' | 'explain'>}
 */
export const KINDS = {
  libersign: 'activate',
  nexu: 'activate',
  tls: 'tls',
  webeid: 'served',
  fortify: 'explain',
  scws: 'explain',
  atexo: 'explain',
  afirma: 'explain',
  eudss: 'explain',
  java: 'explain',
};
const MAX_DETAILS = 5;

// ---- options and policy ----------------------------------------------------------------------

/**
 * The administrator's values of `keys` (storage.managed), none without a policy.
 * @param {string[]} keys
 * @returns {Promise<{[key: string]: unknown}>}
 */
async function managed(keys) {
  try {
    return await api.storage.managed.get(keys);
  } catch {
    return {}; // no policy
  }
}

/**
 * `{on, activation}`: the radar runs (options, policy wins); « Activer » is offered (policy).
 * Kept until a setting or the policy changes: Chromium answers storage.managed seconds late
 * while it starts.
 */
/** @type {Promise<{on: boolean, activation: boolean, managed: boolean}> | null} */
let current = null;
export function radarSettings() {
  current ??= Promise.all([store.get(['radar']), managed(['radar', 'radarActivation'])]).then(([{ radar }, policy]) => ({
    on: typeof policy.radar === 'boolean' ? policy.radar : radar ?? true,
    activation: policy.radarActivation !== false,
    managed: typeof policy.radar === 'boolean',
  }));
  current.catch(() => { current = null; });
  return current;
}

/** @param {boolean} on */
async function registerScript(on) {
  const registered = await api.scripting.getRegisteredContentScripts({ ids: [SCRIPT.id] });
  const same = registered.length === 1 && registered[0].js?.join(' ') === SCRIPT.js.join(' ');
  if (on && same) return;
  if (registered.length > 0) await api.scripting.unregisterContentScripts({ ids: [SCRIPT.id] });
  if (on) await api.scripting.registerContentScripts([/** @type {chrome.scripting.RegisteredContentScript} */ ({ ...SCRIPT, persistAcrossSessions: true })]);
}

let syncing = Promise.resolve();
function syncScript() {
  syncing = syncing.then(async () => {
    // The person's choice at once (the policy may take seconds to read at start-up), then
    // the policy's word.
    const { radar } = await store.get(['radar']);
    await registerScript(radar ?? true);
    await registerScript((await radarSettings()).on);
  }).catch((e) => console.warn('radar script:', e));
  return syncing;
}
store.onChanged((keys) => {
  if (!keys.includes('radar')) return;
  current = null;
  syncScript();
});
api.storage.onChanged.addListener((changes, area) => {
  if (area !== 'managed' || !('radar' in changes || 'radarActivation' in changes)) return;
  current = null;
  syncScript();
});
syncScript();

// ---- findings per tab --------------------------------------------------------------------------

// tab id → {origin, findings: {kind: [detail…]}}; mirrored in storage.session.
/**
 * What the radar saw in a tab: the page's origin (null: not known yet), the details found
 * per kind, and where « Réessayer » goes (a TLS failure of the page itself).
 * @typedef {{origin: string | null, findings: Record<string, string[]>, retryUrl?: string}} TabFindings
 */
/** @type {Map<number, TabFindings>} */
const tabs = new Map();
const SESSION_KEY = 'radarTabs';
const loaded = (async () => {
  try {
    const { [SESSION_KEY]: saved } = await api.storage.session.get(SESSION_KEY);
    for (const [id, v] of Object.entries(saved ?? {})) if (!tabs.has(Number(id))) tabs.set(Number(id), v);
  } catch { /* no session storage: findings last while the background runs */ }
})();

function save() {
  api.storage.session?.set({ [SESSION_KEY]: Object.fromEntries(tabs) }).catch(() => {});
}

/** @param {string} url */
function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}

/** @param {number} tabId @param {string} kind @param {string} detail @param {string | null} pageOrigin */
async function record(tabId, kind, detail, pageOrigin) {
  if (!Object.hasOwn(KINDS, kind) || tabId < 0) return; // not `in`: 'constructor' is no kind
  await loaded;
  if (!(await radarSettings()).on) return;
  let tab = tabs.get(tabId);
  if (!tab) {
    tab = { origin: pageOrigin, findings: {} };
    tabs.set(tabId, tab);
  }
  const list = (tab.findings[kind] ??= []);
  if (list.includes(detail) || list.length >= MAX_DETAILS) return;
  list.push(detail);
  save();
  await badge(tabId);
}

/** @param {number} tabId */
async function badge(tabId) {
  const tab = tabs.get(tabId);
  const kinds = Object.keys(tab?.findings ?? {});
  let text = '';
  if (kinds.length > 0) {
    const statuses = await Promise.all(kinds.map((k) => status(k, /** @type {TabFindings} */ (tab).origin)));
    text = statuses.some((s) => s !== 'served') ? '!' : '✓';
  }
  try {
    await api.action.setBadgeText({ tabId, text });
    if (text) await api.action.setBadgeBackgroundColor({ tabId, color: text === '!' ? '#b45309' : '#15803d' });
    await api.action.setTitle({ tabId, title: text ? api.i18n.getMessage('radarBadgeTitle') : 'Paraphe' });
  } catch { /* the tab is gone */ }
}

/** @param {number} tabId */
function forget(tabId) {
  if (!tabs.delete(tabId)) return;
  save();
  api.action.setBadgeText({ tabId, text: '' }).catch(() => {});
}

api.tabs.onRemoved.addListener((tabId) => {
  loaded.then(() => forget(tabId));
});

// A new page in the tab: what the last one asked no longer holds.
api.webRequest.onBeforeRequest.addListener(/** @returns {undefined} */ (d) => {
  if (d.tabId < 0) return;
  loaded.then(() => {
    forget(d.tabId);
    tabs.set(d.tabId, { origin: originOf(d.url), findings: {} });
    save();
  });
}, { urls: ['https://*/*', 'http://*/*'], types: ['main_frame'] });

// What a page loads or asks of a local server, whoever made the request. Path patterns are
// case-sensitive: the usual spellings are listed.
const WATCHED = ['libersign', 'Libersign', 'LiberSign', 'nexu', 'scwsapi', 'SCWSAPI', '.jnlp', 'webcrypto-socket',
  'web-eid', 'hwcrypto', 'deployJava', 'autoscript', 'miniapplet', 'atexo', 'localtrust', 'LocalTrust']
  .flatMap((w) => [`https://*/*${w}*`, `http://*/*${w}*`]);
const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'].flatMap((h) => [`http://${h}/*`, `https://${h}/*`]);
api.webRequest.onBeforeRequest.addListener(/** @returns {undefined} */ (d) => {
  if (d.tabId < 0 || d.type === 'main_frame') return;
  for (const [kind, re] of RULES.url) {
    if (re.test(d.url)) record(d.tabId, kind, d.url.slice(0, 200), null);
  }
}, { urls: [...WATCHED, ...LOOPBACK] });

// TLS client authentication the browser could not complete. Chromium: net::ERR_*CLIENT_AUTH*
// (ERR_BAD_SSL_CLIENT_AUTH_CERT when the server refused the handshake without a certificate).
// Firefox gives NSS's error by name only where NSS has no text for it
// (SSL_ERROR_RX_CERTIFICATE_REQUIRED_ALERT, the TLS 1.3 alert); for TLS 1.2's alerts it gives
// NSS's message in the browser's language (nsserrors.properties; Firefox ESR 153's English and
// the French language pack's): SSL_ERROR_HANDSHAKE_FAILURE_ALERT, SSL_ERROR_BAD_CERT_ALERT.
const CLIENT_AUTH = new RegExp([
  'CLIENT_AUTH',
  'CERTIFICATE_REQUIRED',
  'SSL_ERROR_HANDSHAKE_FAILURE_ALERT',
  'SSL_ERROR_BAD_CERT_ALERT',
  'SSL peer was unable to negotiate an acceptable set of security parameters',
  'SSL peer cannot verify your certificate',
  'Le pair SSL n.a pas réussi à négocier un jeu de paramètres de sécurité acceptable',
  'Le pair SSL ne peut pas vérifier votre certificat',
].join('|'), 'i');
api.webRequest.onErrorOccurred.addListener((d) => {
  if (d.tabId < 0 || !CLIENT_AUTH.test(d.error ?? '')) return;
  const origin = originOf(d.url);
  recordTls(d.tabId, `${origin} (${d.error})`, d.type === 'main_frame' ? d.url : null);
}, { urls: ['https://*/*'], types: ['main_frame', 'sub_frame', 'xmlhttprequest'] });

/**
 * A client-authentication refusal in `tabId`; `pageUrl`: the page itself was refused there
 * (« Réessayer » goes back to it, whatever the tab shows meanwhile), null for a frame or a
 * request of the page.
 * @param {number} tabId @param {string} detail @param {string | null} pageUrl
 */
async function recordTls(tabId, detail, pageUrl) {
  await record(tabId, 'tls', detail, pageUrl === null ? null : originOf(pageUrl));
  const tab = tabs.get(tabId);
  if (tab && pageUrl !== null) {
    tab.retryUrl = pageUrl;
    save();
  }
}

/**
 * A request of a kind Paraphe serves arrived from this tab (Web eID, LiberSign, NexU): show it.
 * @param {chrome.runtime.MessageSender | undefined} sender @param {string} kind @param {string} detail
 */
export function note(sender, kind, detail) {
  const tabId = sender?.tab?.id;
  if (tabId === undefined || !Number.isInteger(tabId) || !fromPage(sender)) return;
  record(tabId, kind, detail, sender.frameId === 0 ? originOf(sender.url) : null).catch(() => {});
}

// ---- what the popup shows ----------------------------------------------------------------------

/**
 * Whether Paraphe serves `kind` on `origin` already (`served`), could (`activate`), or not.
 * @param {string} kind @param {string | null} origin
 */
async function status(kind, origin) {
  const what = KINDS[kind];
  if (what !== 'activate') return what;
  const enabled = kind === 'libersign' ? await libersign.enabledOrigins() : await nexu.enabledOrigins();
  return /** @type {(string | null)[]} */ (enabled).includes(origin) ? 'served' : 'activate';
}

/** Whether `origin` may be enabled at all (https, or loopback http for developers). @param {string} origin */
async function acceptable(origin) {
  await ready;
  try {
    core().check_origin(origin, (await settings()).allowLoopbackHttp);
    return true;
  } catch {
    return false;
  }
}

/** @param {number} tabId */
async function tabOrigin(tabId) {
  const tab = await api.tabs.get(tabId);
  return originOf(tab.url ?? '');
}

/** @param {number} tabId @returns {Promise<import('../common/types.js').RadarView>} */
async function view(tabId) {
  await loaded;
  const s = await radarSettings();
  const tab = tabs.get(tabId);
  if (!s.on || !tab || Object.keys(tab.findings).length === 0) return { on: s.on, findings: [] };
  const origin = tab.origin && tab.origin !== 'null' ? tab.origin : await tabOrigin(tabId).catch(() => 'null');
  const findings = await Promise.all(Object.entries(tab.findings).map(async ([kind, details]) => ({
    kind, details, status: await status(kind, origin),
  })));
  /** @type {import('../common/types.js').RadarView} */
  const out = { on: true, origin, findings, activation: s.activation && (await acceptable(origin)) };
  if (tab.findings.tls) {
    // A token with an authentication certificate: what the browser can present once it knows
    // the token's module.
    out.certificates = await certificateChoices('authentication')
      .then(({ choices }) => choices.filter((c) => !c.expired).map((c) => ({ holder: c.holder, issuer: c.issuer })))
      .catch(() => null);
  }
  return out;
}

/** Adds the tab's origin to the lists of the clients found there, then reloads the tab. @param {number} tabId */
async function activate(tabId) {
  const s = await radarSettings();
  if (!s.activation) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'the administrator does not allow enabling sites');
  await loaded;
  const tab = tabs.get(tabId);
  const origin = await tabOrigin(tabId);
  if (!tab || tab.origin !== origin) throw new ParapheError('INVALID_REQUEST', 'the tab shows another page now');
  if (!(await acceptable(origin))) throw new ParapheError('ORIGIN_NOT_ALLOWED', `${origin} cannot be enabled (https only)`);
  if (tab.findings.libersign) {
    await setLibersignOrigin(origin, true);
    await libersign.syncScripts();
  }
  if (tab.findings.nexu) {
    await nexu.setOrigin(origin, true);
    await nexu.syncScripts();
  }
  await api.tabs.reload(tabId);
  return { origin };
}

/**
 * @param {{kind?: unknown, findings?: unknown, frameOrigin?: unknown, tabId?: unknown}} msg
 *   a content script's findings (each the page's word, checked here) or an extension page's question
 * @param {chrome.runtime.MessageSender} sender
 */
export async function handle(msg, sender) {
  switch (msg.kind) {
    case 'radar': {
      if (!fromPage(sender) || !Array.isArray(msg.findings)) throw new ParapheError('INVALID_REQUEST', 'not from a page');
      let frame;
      try {
        frame = senderOrigin(sender, msg.frameOrigin);
      } catch {
        frame = 'null';
      }
      const top = sender.frameId === 0 ? frame : null;
      const tabId = /** @type {number} */ (sender.tab.id);
      for (const f of msg.findings.slice(0, 32)) {
        if (typeof f?.kind !== 'string' || typeof f.detail !== 'string') continue;
        if (f.kind === 'tls') {
          // The server's refusal page (nginx's 400, common/radar-rules.js `page`): this frame's
          // document, which « Réessayer » loads again when it is the tab's page.
          await recordTls(tabId, `${frame} (HTTP 400 « ${f.detail.slice(0, 120)} »)`, top !== null && sender.url ? sender.url : null);
        } else {
          await record(tabId, f.kind, f.detail.slice(0, 200), top);
        }
      }
      return {};
    }
    case 'radar-view':
    case 'radar-activate':
    case 'radar-retry': {
      if (!fromExtensionPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'extension pages only');
      const tabId = Number(msg.tabId);
      if (!Number.isInteger(tabId) || tabId < 0) throw new ParapheError('INVALID_REQUEST', 'no tab');
      if (msg.kind === 'radar-view') return view(tabId);
      if (msg.kind === 'radar-activate') return activate(tabId);
      await loaded;
      const retry = tabs.get(tabId)?.retryUrl;
      if (retry) await api.tabs.update(tabId, { url: retry });
      else await api.tabs.reload(tabId);
      return {};
    }
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown message');
  }
}
