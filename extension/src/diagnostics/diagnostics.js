// @ts-check
// « Tester ma carte »: everything support needs to know about readers, cards, middleware,
// tokens and certificates, a one-click test signature verified here with WebCrypto, and a
// plain-text report to copy (no PIN, no secret: only what the certificates and the host say).
// Data: {kind:"diagnostics"} (background/diagnostics.js); live card events through the
// `cards` port (background/cards.js), after which the page asks again.
import { $, api, localize, t } from '../common/api.js';
import { fromBase64 } from '../common/base64.js';
import * as core from '../background/core.js';
import { eventText, watchCards } from '../common/cards.js';

localize();

/** @typedef {import('../common/types.js').Choice} Choice */
/** @type {import('../common/types.js').DiagnosticsReport | null} */
let data = null;
/** @type {{holder: string, fingerprint: string, verified: boolean, scheme?: string, ms?: number, error?: string} | null} */
let lastTest = null;

/**
 * A background request; throws its error (an Error with the error's fields).
 * @param {{kind: string} & Record<string, unknown>} msg
 * @returns {Promise<any>} the `result` of that kind (background/diagnostics.js)
 */
async function ask(msg) {
  const reply = await api.runtime.sendMessage(msg);
  if (reply?.error) throw Object.assign(new Error(reply.error.message), reply.error);
  return reply?.result;
}

/** @param {{code?: string, message?: string}} e @returns {string} */
const errorText = (e) => api.i18n.getMessage(`error_${e.code}`) || t('errorGeneric', e.code ?? e.message);

/** @param {string} text @param {string} [cls] */
function li(text, cls = '') {
  const el = document.createElement('li');
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

async function load() {
  try {
    data = await ask({ kind: 'diagnostics' });
  } catch (e) {
    data = { error: { code: e.code, message: e.message } };
  }
  $('loading').hidden = true;
  render();
}

// ---- display -------------------------------------------------------------------------------

/** @param {import('../common/types.js').PinState | null} pin */
function pinText(pin) {
  if (!pin) return '';
  if (pin.locked) return t('error_PIN_LOCKED');
  if (pin.finalTry) return t('pinFinalTry');
  if (pin.countLow) return t('pinCountLow');
  return t('diagPinOk');
}

/** @param {import('../common/types.js').PcscReader} r */
function middlewareText(r) {
  const m = r.middleware;
  if (!m) return '';
  if (m.loaded) return t('diagMiddlewareLoaded', m.name, m.module ?? '');
  if (m.installed) return t('diagMiddlewareInstalled', m.name, m.module ?? '');
  if (m.fallback) return t('diagMiddlewareUnknownCard', m.name);
  return t('diagMiddlewareMissing', m.name, m.install);
}

/** @param {string} u */
const usageText = (u) => api.i18n.getMessage(`usage_${u}`) || u;

function render() {
  const d = data;
  const versions = $('versions');
  versions.replaceChildren();
  const rows = [
    [t('diagExtension'), d.extension ? `${d.extension.version} (${t('diagProtocol')} ${d.extension.protocol})` : '?'],
    [t('diagBrowser'), `${d.browser ?? '?'}${d.platform ? ` — ${d.platform}` : ''}`],
    [t('diagHost'), d.host?.available ? `paraphe-host ${d.host.version} (${t('diagProtocol')} ${d.host.protocol}, ${d.host.os})`
      : `${t('popupHostMissing')} ${d.host?.error ? `(${d.host.error.code})` : ''}`],
  ];
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(th, td);
    versions.append(tr);
  }
  if (d.error) versions.append(Object.assign(document.createElement('tr'), { textContent: errorText(d.error), className: 'error' }));

  const readers = $('readers');
  readers.replaceChildren();
  if (d.pcsc && d.pcsc.available === false) readers.append(li(t('cardsPcscUnavailable', d.pcsc.message ?? ''), 'warning'));
  else if (d.pcsc && d.pcsc.readers.length === 0) readers.append(li(t('cardsNoReader')));
  for (const r of d.pcsc?.readers ?? []) {
    const el = li(r.atr ? `${r.reader} — ${t('cardsPresent')} ${r.card ?? t('cardsUnknownCard')}` : `${r.reader} — ${t('cardsEmpty')}`);
    el.dataset.reader = r.reader;
    if (r.atr) {
      const atr = document.createElement('div');
      atr.append(`ATR `, Object.assign(document.createElement('code'), { textContent: r.atr, className: 'atr' }));
      const mw = document.createElement('div');
      mw.className = `middleware ${r.middleware && !r.middleware.installed ? 'warning' : ''}`;
      mw.textContent = middlewareText(r);
      el.append(atr, mw);
    }
    readers.append(el);
  }

  const modules = $('modules');
  modules.replaceChildren();
  if ((d.modules ?? []).length === 0) modules.append(li(t('diagNoModule'), 'warning'));
  for (const m of d.modules ?? []) {
    modules.append(li(`${m.name ?? m.path} — ${m.path} — ${m.loaded ? `${t('diagLoaded')}${m.library ? ` (${m.library})` : ''}` : `${t('diagNotLoaded')} ${m.error ?? ''}`}`,
      m.loaded ? '' : 'warning'));
  }

  const tokens = $('tokens');
  tokens.replaceChildren();
  if ((d.tokens ?? []).length === 0) tokens.append(li(t('popupNoToken')));
  for (const tk of d.tokens ?? []) {
    const pad = tk.protectedAuthenticationPath ? ` · ${t('diagPinPad')}` : '';
    tokens.append(li(`${tk.label} (${tk.manufacturer} ${tk.model}) — ${tk.slotDescription} — ${t('diagPin')} ${pinText(tk.pin)}${pad}`,
      tk.pin?.locked || tk.pin?.finalTry ? 'warning' : ''));
  }

  const box = $('certificates');
  box.replaceChildren();
  if ((d.certificates ?? []).length === 0) box.append(Object.assign(document.createElement('p'), { textContent: t('diagNoCertificate') }));
  for (const c of d.certificates ?? []) box.append(certificateBox(c));
  $('report').value = report();
}

/** @param {Choice} c */
function certificateBox(c) {
  const div = document.createElement('div');
  div.className = 'certificate';
  div.dataset.fingerprint = c.fingerprint;
  const line = (/** @type {string} */ text, cls = '') => {
    const el = document.createElement('div');
    el.textContent = text;
    if (cls) el.className = cls;
    div.append(el);
  };
  line(c.holder + (c.organization ? ` — ${c.organization}` : ''), 'holder');
  line(t('certIssuer', c.issuer));
  line([c.rgsLevel ? t('certRgs', c.rgsLevel) : t('diagNoRgs'), c.qualified ? t('certQualified') : t('diagNotQualified')].join(' · '));
  if (c.expired) line(t('certExpired'), 'error');
  else line(t('certExpires', new Date(c.notAfter).toLocaleDateString(), c.daysLeft), c.expiresSoon ? 'warning expiry' : 'expiry');
  line(`${t('diagUsages')} ${c.usages.map(usageText).join(', ') || '—'} · ${c.keyType} ${c.curve ?? c.keyBits} · ${c.tokenLabel}`, 'meta');
  line(`SHA-256 ${c.fingerprint}`, 'meta');
  if (c.usages.includes('signing') && !c.expired) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'test-signature';
    b.textContent = t('diagTestSignature');
    b.addEventListener('click', () => testSignature(c, b));
    div.append(b);
  }
  return div;
}

// ---- test signature, verified here -----------------------------------------------------------


const CURVES = new Set(['P-256', 'P-384', 'P-521']);

/** WebCrypto's import and verify parameters for the key of `c` (RSA PKCS#1 v1.5 or ECDSA, SHA-256), from what the WASM core decoded. */
/**
 * @param {Choice} c
 * @returns {[RsaHashedImportParams | EcKeyImportParams, AlgorithmIdentifier | EcdsaParams]}
 */
function algorithmsFor(c) {
  if (c.keyType === 'RSA') return [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }];
  if (c.keyType === 'EC') {
    if (!CURVES.has(c.curve)) throw new Error(`unsupported curve ${c.curve}`);
    return [{ name: 'ECDSA', namedCurve: c.curve }, { name: 'ECDSA', hash: 'SHA-256' }];
  }
  throw new Error(`unsupported key type ${c.keyType}`);
}

/** Checks the test signature with the certificate's SubjectPublicKeyInfo, which the WASM core takes out of the DER. */
/**
 * @param {Choice} c
 * @param {{certificate: {fingerprint: string, certificate: string}, signatures: {signature: string, scheme: string}[], data: string}} result
 *   the test signature (background/diagnostics.js: signHash's result and the signed bytes)
 */
async function verify(c, result) {
  if (result.certificate.fingerprint !== c.fingerprint) throw new Error('signed with another certificate');
  await core.ready;
  const spki = fromBase64(await core.certificateSpki(result.certificate.certificate));
  const [importAlg, verifyAlg] = algorithmsFor(c);
  const key = await crypto.subtle.importKey('spki', spki, importAlg, false, ['verify']);
  const sig = result.signatures[0];
  return crypto.subtle.verify(verifyAlg, key, fromBase64(sig.signature), fromBase64(result.data));
}

/** @param {Choice} c @param {HTMLButtonElement} button */
async function testSignature(c, button) {
  const out = $('test-result');
  out.hidden = false;
  out.className = 'notice';
  out.textContent = t('diagTesting');
  button.disabled = true;
  const started = performance.now();
  try {
    const result = await ask({ kind: 'test-signature', fingerprint: c.fingerprint });
    const ok = await verify(c, result);
    const ms = Math.round(performance.now() - started);
    lastTest = { holder: c.holder, fingerprint: c.fingerprint, verified: ok, scheme: result.signatures[0].scheme, ms };
    out.textContent = ok ? t('diagSignatureVerified', result.signatures[0].scheme) : t('diagSignatureNotVerified');
    out.className = ok ? 'notice verified' : 'error';
    out.dataset.verified = String(ok);
  } catch (e) {
    lastTest = { holder: c.holder, fingerprint: c.fingerprint, verified: false, error: e.code ?? e.message };
    out.textContent = e.code ? errorText(e) : t('diagSignatureNotVerified') + ` (${e.message})`;
    out.className = 'error';
    out.dataset.verified = 'false';
  } finally {
    button.disabled = false;
    $('report').value = report();
  }
}

// ---- the text report --------------------------------------------------------------------------

function report() {
  /** @type {import('../common/types.js').DiagnosticsReport} */
  const d = data ?? {};
  const L = [];
  L.push(`Paraphe — ${t('diagTitle')} — ${new Date().toISOString()}`);
  L.push(`${t('diagExtension')}: ${d.extension?.version ?? '?'} (protocol ${d.extension?.protocol ?? '?'})`);
  L.push(`${t('diagBrowser')}: ${d.browser ?? '?'} (${d.platform ?? '?'})`);
  L.push(`${t('diagHost')}: ${d.host?.available ? `${d.host.version} (protocol ${d.host.protocol}, ${d.host.os})` : `unavailable ${d.host?.error?.code ?? ''} ${d.host?.error?.message ?? ''}`}`);
  if (d.error) L.push(`Error: ${d.error.code} ${d.error.message}`);
  L.push('', `[${t('cardsReaders')}]`);
  if (!d.pcsc) L.push('  ?');
  else if (!d.pcsc.available) L.push(`  PC/SC unavailable: ${d.pcsc.message ?? ''}`);
  else if (d.pcsc.readers.length === 0) L.push(`  ${t('cardsNoReader')}`);
  for (const r of d.pcsc?.readers ?? []) {
    if (!r.atr) {
      L.push(`  ${r.reader}: ${t('cardsEmpty')}`);
      continue;
    }
    L.push(`  ${r.reader}: ATR ${r.atr} — ${r.card ?? t('cardsUnknownCard')}`);
    const m = r.middleware;
    if (m) L.push(`    middleware ${m.id} (${m.name}): installed=${m.installed} loaded=${m.loaded ?? '?'} fallback=${m.fallback} module=${m.module ?? '-'}${m.installed ? '' : ` — install: ${m.install}`}`);
  }
  L.push('', `[${t('diagModules')}]`);
  for (const m of d.modules ?? []) L.push(`  ${m.path} [${m.source}] ${m.loaded ? `loaded ${m.library ?? ''}` : `NOT LOADED ${m.error ?? ''}`}`);
  L.push('', `[${t('popupTokens')}]`);
  for (const tk of d.tokens ?? []) {
    const p = tk.pin ?? /** @type {Partial<import('../common/types.js').PinState>} */ ({});
    L.push(`  ${tk.label} — ${tk.manufacturer} ${tk.model} — ${tk.slotDescription} — PIN countLow=${!!p.countLow} finalTry=${!!p.finalTry} locked=${!!p.locked}${tk.protectedAuthenticationPath ? ' pinPad' : ''}`);
  }
  L.push('', `[${t('popupCertificates')}]`);
  for (const c of d.certificates ?? []) {
    L.push(`  ${c.holder}${c.organization ? ` (${c.organization})` : ''}`);
    L.push(`    issuer: ${c.issuer}`);
    L.push(`    RGS: ${c.rgsLevel ?? '-'} · qualified: ${c.qualified} · usages: ${c.usages.join(', ')} · ${c.keyType} ${c.curve ?? c.keyBits}`);
    L.push(`    notAfter: ${c.notAfter} (${c.expired ? 'EXPIRED' : `${c.daysLeft} days`}${c.expiresSoon && !c.expired ? ', < 30 days' : ''})`);
    L.push(`    token: ${c.tokenLabel} · SHA-256 ${c.fingerprint}`);
  }
  if (lastTest) {
    L.push('', `[${t('diagTestSignature')}]`);
    L.push(`  ${lastTest.holder} ${lastTest.fingerprint}: ${lastTest.verified ? `verified (${lastTest.scheme}, ${lastTest.ms} ms)` : `FAILED ${lastTest.error ?? 'signature does not verify'}`}`);
  }
  return `${L.join('\n')}\n`;
}

$('copy').addEventListener('click', async () => {
  const text = report();
  $('report').value = text;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    $('report').select();
    document.execCommand('copy');
  }
  $('copied').textContent = t('diagCopied');
  $('copied').hidden = false;
});

// ---- live ------------------------------------------------------------------------------------

/** @type {ReturnType<typeof setTimeout> | null} */
let again = null;
watchCards((state, event) => {
  if (!event) return;
  const text = eventText(event);
  if (text) {
    $('card-notice').textContent = text;
    $('card-notice').hidden = false;
  }
  clearTimeout(again);
  again = setTimeout(load, 500);
});

await load();
