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
//   XAdES): logins are `sign-structured`, so dual-use keys may sign here.
//   The port carries `{progress}` messages, then one `{reply}`: LiberSign's answer fields
//   (`result: "ok"` and `certs|sign|version|hash|libersign`, or `result: "error"`,
//   `exception`, `code`).
import { api, ParapheError, t } from '../common/api.js';
import { libersignOrigins, LIBERSIGN_ORIGINS } from '../common/allowlist.js';
import * as store from '../common/store.js';
import { certificateChoices } from './choices.js';
import { core, ready } from './core.js';
import * as consent from './consent.js';
import * as native from './native.js';
import { webPageOrigin } from './origin.js';
import * as sessions from './sessions.js';
import { settings } from './settings.js';

export const PORT_NAME = 'libersign';
const VERSION = api.runtime.getManifest().version;
const SCRIPTS = {
  page: { id: 'libersign-page', js: ['content/libersign-page.js'], world: 'MAIN' },
  relay: { id: 'libersign-relay', js: ['content/activation.js', 'content/libersign-relay.js'] },
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
  return [...new Set([...managed, ...user])].filter((origin) => {
    try {
      core().check_origin(origin, allowLoopbackHttp);
      return true;
    } catch {
      return false;
    }
  });
}

export function matchPattern(origin) {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}${PATTERNS_HAVE_PORTS && url.port ? `:${url.port}` : ''}/*`;
}

async function registerScripts() {
  const matches = [...new Set((await enabledOrigins()).map(matchPattern))].sort();
  const ids = Object.values(SCRIPTS).map((s) => s.id);
  const registered = await api.scripting.getRegisteredContentScripts({ ids });
  const current = (s) => [...(s?.matches ?? [])].sort().join(' ');
  // The same sites and the same files (an update may have changed the files).
  const sameFiles = (s) => (s.js ?? []).join(' ') === Object.values(SCRIPTS).find((x) => x.id === s.id)?.js.join(' ');
  if (registered.length === ids.length && registered.every((s) => current(s) === matches.join(' ') && sameFiles(s))) return;
  if (registered.length > 0) await api.scripting.unregisterContentScripts({ ids: registered.map((s) => s.id) });
  if (matches.length === 0) return;
  await api.scripting.registerContentScripts(Object.values(SCRIPTS).map((s) => ({
    ...s, matches, runAt: 'document_start', allFrames: true, persistAcrossSessions: true,
  })));
}

let registering = Promise.resolve();
/** Brings the registered scripts in line with the lists (one update at a time). */
export function syncScripts() {
  registering = registering.then(registerScripts).catch((e) => console.warn('LiberSign scripts:', e));
  return registering;
}

// The person's list or the loopback option changed (common/store.js), or the policy did.
store.onChanged((keys) => {
  if (keys.includes(LIBERSIGN_ORIGINS) || keys.includes('allowLoopbackHttp')) syncScripts();
});
api.storage.onChanged.addListener((changes, area) => {
  if (area === 'managed' && (LIBERSIGN_ORIGINS in changes || 'allowLoopbackHttp' in changes)) syncScripts();
});
// Every time the background starts: a policy may have changed while it was stopped.
syncScripts();

// ---- requests --------------------------------------------------------------------------------

export function onConnect(port) {
  let used = false;
  port.onMessage.addListener((msg) => {
    if (used) return; // one request per port
    used = true;
    const progress = (text) => {
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

function errorReply(err) {
  // LiberSign wrappers show `exception` to the person.
  const localized = api.i18n.getMessage(`error_${err.code}`);
  return {
    result: 'error',
    code: err.code,
    exception: localized || `${t('errorGeneric', err.code)} ${err.message}`,
    message: err.message,
  };
}

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
      return { certs: JSON.parse(core().libersign_certificates(JSON.stringify(list), Date.now())) };
    }
    case 'SIGN':
      // The consent window rules (consent.js): activation, a visible tab, one at a time.
      return { sign: await consent.fromTab(sender, msg.activation === true, () => sign(msg, origin, sender, progress)) };
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown action');
  }
}

function itemName(entry) {
  if (entry.kind === 'pes') return t('libersignItemPes', entry.label ?? '');
  return entry.label ? t('libersignItemCmsNamed', entry.label) : t('libersignItemCms');
}

/** One consent, one PIN, every digest of every `signatureInformations` entry, in order. */
async function sign(msg, origin, sender, progress) {
  const infos = msg.sign;
  const plan = JSON.parse(core().libersign_plan(JSON.stringify(infos ?? null)));
  const cert = msg.cert && typeof msg.cert === 'object' ? msg.cert.ID : msg.cert; // an ID, or a certificate object
  const fingerprint = String(cert ?? '').toLowerCase();
  const release = native.hold();
  try {
    const chosen = (await certificateChoices('signing')).choices.find((c) => c.fingerprint === fingerprint);
    if (!chosen || chosen.expired) {
      throw new ParapheError('NO_CERTIFICATE', 'the chosen certificate is not on a connected token, or has expired');
    }
    // A page value the format refuses (a bad Id, a p7s for another document…) fails here,
    // before any window opens.
    for (const entry of plan) core().format_prepare(JSON.stringify(entry.job), chosen.certificate, Date.now());

    progress(t('libersignProgressConsent'));
    const view = {
      origin,
      purpose: 'sign-structured',
      tabTitle: sender.tab?.title ?? '',
      items: plan.map((entry) => ({ hex: entry.hex, hashAlgorithm: entry.hashAlgorithm, name: itemName(entry) })),
      choices: [chosen],
    };
    const signed = await consent.ask(view, (c, pin, window) => sessions.withLogin(c, pin,
      (session) => signPlan(c, session, plan, (i) => {
        window.progress(i, plan.length);
        progress(t('libersignProgressSigning', i + 1, plan.length));
      }), 'sign-structured'));
    progress(t('libersignProgressDone'));
    const answer = infos.map(() => []);
    plan.forEach((entry, i) => answer[entry.info].push(signed[i]));
    return answer.map((parts) => parts.join(','));
  } finally {
    release();
  }
}

/** Logged in: for each digest prepare (signing time = now), sign, finish. */
async function signPlan(choice, session, plan, progress) {
  const out = [];
  for (const [i, entry] of plan.entries()) {
    progress(i);
    const prepared = JSON.parse(core().format_prepare(JSON.stringify(entry.job), choice.certificate, Date.now()));
    const result = await native.call('sign', (id) => core().sign_request(id, session, prepared.digest,
      prepared.hashAlgorithm, prepared.scheme, choice.keyType, 'raw'));
    out.push(core().format_finish(JSON.stringify(prepared.state), result.signature));
  }
  return out;
}
