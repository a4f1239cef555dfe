// @ts-check
// The consent window's page. It only displays what the background sends and returns the
// person's answer; the PIN leaves this page once, in the `confirm` message, and is cleared
// from the field right after.
//
// The buttons wait ARM_MS after the window shows its question, and again after every loss
// of focus or visibility (they stay off until the window is back, then ARM_MS more), as the
// browsers' permission prompts do: a click or a key press meant for the page, landing just
// as the window appears or comes to the front, must not answer it (nor Enter in the PIN
// field: the form is checked too).
import { $, api, localize, t } from '../common/api.js';
import { showProgress } from './progress.js';

const id = location.hash.slice(1);
const port = api.runtime.connect({ name: `consent:${id}` });
const ARM_MS = 750;
/** @typedef {import('../common/types.js').ErrorJson} ErrorJson */
/** @type {import('../common/types.js').ConsentView | null} */
let view = null;
let busy = false;
let armed = false;
/** @type {ReturnType<typeof setTimeout> | null} */
let armTimer = null;

localize();

port.onMessage.addListener((/** @type {import('../common/types.js').ConsentMessage} */ msg) => {
  switch (msg.type) {
    case 'show':
      view = msg.view;
      render();
      if (view.failure) showFailure(view.failure); // no certificate fits (choices.js noSuitableCertificate)
      break;
    case 'pin-error':
      showPinError(msg.error);
      break;
    case 'failed':
      showFailure(msg.error);
      break;
    case 'done':
      finish(t(KINDS[view?.kind]?.done ?? 'consentDone'));
      break;
    case 'progress':
    case 'progress-end':
      showProgress(msg, view?.kind);
      break;
    default:
      break;
  }
});
port.postMessage({ type: 'ready' });

// Wording per kind of request; `sign` is the page's own (consent.html).
/** @type {Record<string, {title: string, heading: string, origin: string, what: string, button: string, done?: string}>} */
const KINDS = {
  authenticate: { title: 'consentLoginTitle', heading: 'consentLoginHeading', origin: 'consentLoginOriginLabel',
    what: 'consentLoginWhat', button: 'consentLoginButton' },
  certificate: { title: 'consentCertTitle', heading: 'consentCertHeading', origin: 'consentCertOriginLabel',
    what: 'consentCertWhat', button: 'consentCertButton' },
  decrypt: { title: 'pliConsentTitle', heading: 'pliConsentHeading', origin: 'pliConsentOriginLabel',
    what: 'pliConsentWhat', button: 'pliConsentButton', done: 'pliUnwrapped' },
  'certificate-list': { title: 'consentListTitle', heading: 'consentListHeading', origin: 'consentListOriginLabel',
    what: 'consentListWhat', button: 'consentListButton', done: 'consentListDone' },
};
// The signature formats a document may be listed with (ConsentItem `format`).
const FORMATS = new Set(['pades', 'xades', 'cades']);
// Kinds that use no key: no PIN, and the certificates are shown, not chosen among.
const NO_LOGIN = new Set(['certificate', 'certificate-list']);

function render() {
  $('origin').textContent = view.origin;
  const n = view.items.length;
  $('what-heading').textContent = n === 1 ? t('consentOneDocument') : t('consentManyDocuments', n);
  const items = $('items');
  for (const item of view.items.slice(0, 50)) {
    const li = document.createElement('li');
    const name = document.createElement('strong');
    name.textContent = item.name || t('consentUnnamed');
    if (typeof item.size === 'number') {
      const size = document.createElement('span');
      size.className = 'size';
      size.textContent = ` (${sizeText(item.size)})`;
      li.append(name, size);
    } else {
      li.append(name);
    }
    if (item.format && FORMATS.has(item.format)) {
      const format = document.createElement('span');
      format.className = 'format';
      format.dataset.format = item.format;
      format.textContent = ` — ${t(item.format === 'pades' && item.visible ? 'consentFormat_padesVisible' : `consentFormat_${item.format}`)}`;
      if (item.visible) format.dataset.visible = 'true';
      li.append(format);
    }
    const digest = document.createElement('code');
    digest.textContent = `${item.hashAlgorithm.toUpperCase()} ${item.hex}`;
    li.append(document.createElement('br'), digest);
    items.append(li);
  }
  if (n > 50) {
    const li = document.createElement('li');
    li.textContent = t('consentMore', n - 50);
    items.append(li);
  }
  // Baseline B-T: the person sees which authority will time-stamp the signatures.
  if (view.timestamp) {
    $('timestamp').textContent = t('consentTimestamp', view.timestamp);
    $('timestamp').hidden = false;
  }

  const words = KINDS[view.kind];
  if (words) {
    document.title = t(words.title);
    document.querySelector('h1').textContent = t(words.heading);
    document.querySelector('.origin-box [data-i18n]').textContent = t(words.origin);
    $('what-heading').textContent = t(words.what);
    $('what-heading').className = 'what';
    $('confirm').textContent = t(words.button);
  }

  const box = $('certificates');
  view.choices.forEach((c, i) => {
    const label = document.createElement('label');
    label.className = 'certificate';
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'certificate';
    radio.value = c.fingerprint;
    radio.checked = i === 0;
    radio.hidden = view.kind === 'certificate-list'; // every certificate is shown, none chosen
    radio.addEventListener('change', updatePinRow);
    const text = document.createElement('span');
    const lines = [
      [c.holder, 'holder'],
      [t('certIssuer', c.issuer), ''],
      [t('certExpires', new Date(c.notAfter).toLocaleDateString(), c.daysLeft), c.expiresSoon ? 'warning' : ''],
      [[c.rgsLevel ? t('certRgs', c.rgsLevel) : '', c.qualified ? t('certQualified') : '',
        `${c.keyType} ${c.curve ?? c.keyBits}`, c.tokenLabel].filter(Boolean).join(' · '), 'meta'],
    ];
    for (const [s, cls] of lines) {
      const div = document.createElement('div');
      div.textContent = s;
      if (cls) div.className = cls;
      text.append(div);
    }
    label.append(radio, text);
    box.append(label);
  });
  updatePinRow();
  $('main').hidden = false;
  $('pin').focus();
  arm();
}

// ---- the delay before the buttons answer ---------------------------------------------------

function updateButtons() {
  for (const b of [$('confirm'), $('cancel')]) b.disabled = busy || !armed;
}

/** The buttons answer ARM_MS from now, if the window keeps its focus and stays visible. */
function arm() {
  disarm();
  if (document.visibilityState !== 'visible' || !view) return;
  armTimer = setTimeout(() => {
    armed = true;
    updateButtons();
  }, ARM_MS);
}

function disarm() {
  clearTimeout(armTimer);
  armTimer = null;
  armed = false;
  updateButtons();
}

window.addEventListener('blur', disarm);
window.addEventListener('focus', arm);
document.addEventListener('visibilitychange', () => (document.visibilityState === 'visible' ? arm() : disarm()));

/** @param {number} bytes @returns {string} */
function sizeText(bytes) {
  const units = ['o', 'Ko', 'Mo', 'Go'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

function selected() {
  const fp = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name=certificate]:checked'))?.value;
  return view.choices.find((c) => c.fingerprint === fp);
}

function updatePinRow() {
  const choice = selected();
  const pinPad = !!choice?.pinPad;
  // Sharing certificates needs no login; a kept login (PIN session) needs no PIN.
  const kept = !pinPad && !!choice?.keptUntil;
  const noLogin = NO_LOGIN.has(view.kind);
  const noPin = noLogin || kept;
  $('pin-row').hidden = pinPad || noPin;
  $('pin').required = !pinPad && !noPin;
  $('pinpad').hidden = !pinPad || noLogin;
  $('kept').hidden = !kept || noLogin;
  if (kept) $('kept').textContent = t('consentPinKept', new Date(choice.keptUntil).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
}

/** @param {boolean} value */
function setBusy(value) {
  busy = value;
  for (const el of document.querySelectorAll('input')) el.disabled = busy;
  updateButtons();
}

$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!armed || busy) return; // Enter in the PIN field too waits for the delay
  const choice = selected();
  if (!choice) return;
  const pin = $('pin').value;
  $('pin').value = '';
  $('message').hidden = true;
  setBusy(true);
  const noPin = choice.pinPad || $('pin-row').hidden;
  port.postMessage({ type: 'confirm', fingerprint: choice.fingerprint, pin: noPin ? undefined : pin });
});

$('cancel').addEventListener('click', () => {
  if (!armed) return;
  port.postMessage({ type: 'cancel' });
  window.close();
});

/** @param {ErrorJson & {pin?: {retriesLeft?: number, finalTry?: boolean, countLow?: boolean}}} error */
function showPinError(error) {
  setBusy(false);
  if (error.code === 'PIN_REQUIRED') {
    // The kept login ended (card removed, expired): this time the PIN is needed.
    const choice = selected();
    if (choice) choice.keptUntil = null;
    updatePinRow();
    $('message').textContent = t('consentPinSessionEnded');
    $('message').hidden = false;
    $('pin').focus();
    return;
  }
  const pin = error.pin ?? {};
  let text = t('errorPinIncorrect');
  if (pin.retriesLeft === 1 || pin.finalTry) text += ` ${t('pinFinalTry')}`;
  else if (typeof pin.retriesLeft === 'number') text += ` ${t('pinTriesLeft', pin.retriesLeft)}`;
  else if (pin.countLow) text += ` ${t('pinCountLow')}`;
  if (error.code === 'PIN_INVALID') text = t('errorPinInvalid');
  $('message').textContent = text;
  $('message').hidden = false;
  $('pin').focus();
}

/** @param {ErrorJson & {signed?: unknown, notSigned?: unknown[]}} error */
function showFailure(error) {
  const key = `error_${error.code}`;
  let text = api.i18n.getMessage(key) || t('errorGeneric', error.code);
  // A batch stopped in the middle says exactly how far it went.
  if (Array.isArray(error.signed) && error.signed.length > 0) {
    text += ` ${t('batchInterrupted', error.signed.length, error.signed.length + (error.notSigned?.length ?? 0))}`;
  }
  document.getElementById('work-progress')?.remove();
  finish(text, true);
}

/** @param {string} text @param {boolean} [isError] */
function finish(text, isError = false) {
  $('main').hidden = true;
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : 'notice';
  s.hidden = false;
}
