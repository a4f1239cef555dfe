// @ts-check
// `window.LiberSign`, the page interface of Libriciel's LiberSign extension, for iParapheur 4,
// s2low and Pastell (docs/LIBERSIGN.md). Runs in the page's MAIN world at document_start, and
// only on origins someone allowed: the background registers this script for exactly those
// (scripting.registerContentScripts), so `typeof LiberSign === 'object'` holds before the
// page's first script, and is false everywhere else.
//
// It has no extension privileges: it speaks LiberSign's postMessage protocol to the relay
// (libersign-relay.js, isolated world), which forwards to the background. Requests:
//   {src: "page.js", nonce, action, …}
// answers (same nonce): {src: "service_worker.js", nonce, result: "ok", certs|sign|version|…}
// or {…, result: "error", exception, code}; messages without nonce are progress, re-sent as
// `libersignmessage` events with `detail.progress`.
//
// There is no update channel: setUpdateUrl() is accepted and ignored, getCertificates() never
// fetches `update.json`, and nothing here can send UPDATE.
(() => {
  'use strict';
  if (typeof /** @type {any} */ (window).LiberSign !== 'undefined') return;

  // Taken now, before any page script runs, so that a later page script cannot reroute them.
  const post = window.postMessage.bind(window);
  const addListener = window.addEventListener.bind(window);
  const dispatch = window.dispatchEvent.bind(window);
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const target = window.origin === 'null' ? '*' : window.origin;
  // The background gives up after 5 minutes in the consent window; this only catches a relay
  // that went away (extension reloaded under the page).
  const TIMEOUT_MS = 6 * 60_000;

  const pending = new Map(); // nonce → {key, resolve, reject, timer}
  let counter = 0;

  /**
   * @param {string} exception @param {string} code
   * @param {{signed?: unknown, notSigned?: unknown}} [data]
   */
  function failure(exception, code, data = {}) {
    const e = /** @type {Error & {exception: string, code: string, result: string, signed?: number[], notSigned?: number[]}} */ (new Error(exception));
    e.exception = exception;
    e.code = code;
    e.result = 'error';
    // A sign stopped in the middle: which signatureInformations entries were signed.
    if (Array.isArray(data.signed) && Array.isArray(data.notSigned)) {
      e.signed = data.signed.filter((i) => Number.isInteger(i));
      e.notSigned = data.notSigned.filter((i) => Number.isInteger(i));
    }
    return e;
  }

  addListener('message', (event) => {
    if (event.source !== window) return;
    const data = event.data;
    if (!data || data.src !== 'service_worker.js') return;
    if (data.nonce === undefined || data.nonce === null) {
      if (typeof data.progress === 'string') {
        dispatch(new CustomEvent('libersignmessage', { detail: { progress: data.progress } }));
      }
      return;
    }
    const p = pending.get(data.nonce);
    if (!p) return;
    pending.delete(data.nonce);
    clearTimeout(p.timer);
    if (data.result === 'ok') p.resolve(data[p.key]);
    else p.reject(failure(String(data.exception ?? 'LiberSign error'), data.code, data));
  });

  /**
   * One LiberSign request to the relay; resolves with the answer's `key` field.
   * @param {string} action @param {string} key @param {Record<string, unknown>} [fields]
   */
  function send(action, key, fields = {}) {
    return new Promise((resolve, reject) => {
      const nonce = `paraphe-${Date.now()}-${++counter}`;
      let message;
      try {
        // Plain data only, as the real extension's messaging would keep.
        message = parse(stringify({ ...fields, src: 'page.js', nonce, action }));
      } catch (e) {
        reject(failure(`invalid arguments: ${e?.message ?? e}`, 'INVALID_REQUEST'));
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(nonce);
        reject(failure('Paraphe did not answer', 'EXTENSION_UNAVAILABLE'));
      }, TIMEOUT_MS);
      pending.set(nonce, { key, resolve, reject, timer });
      post(message, target);
    });
  }

  const LiberSign = Object.freeze({
    /** Accepted for compatibility; Paraphe never downloads or installs anything from a page. */
    setUpdateUrl() {},
    /** Signing certificates: [{ID, CN, ISSUERDN, NOTBEFORE, NOTAFTER, EMAILADDRESS, verifiedWith, PUBKEY}]. */
    getCertificates() {
      return send('LISTCERTS', 'certs');
    },
    /**
     * Signs every entry of `signatureInformations` under one consent and one PIN; resolves
     * with one base64 string per entry (comma-joined when the entry's `hash` held several).
     * LiberSign v2 (Pastell 4's `<ls-libersign>`) passes `{dataToSign: ['<base64>'…]}`
     * instead: one base64 signature value per entry (background/libersign.js).
     */
    /** @param {unknown} cert a certificate of getCertificates, or its ID @param {unknown} signatureInformations */
    sign(cert, signatureInformations) {
      const id = cert && typeof cert === 'object' ? /** @type {{ID?: unknown}} */ (cert).ID : cert;
      return send('SIGN', 'sign', { cert: id, sign: signatureInformations });
    },
    getVersion() {
      return send('VERSION', 'version');
    },
    getFullVersion() {
      return send('FULLVERSION', 'version');
    },
  });

  Object.defineProperty(window, 'LiberSign', { value: LiberSign, enumerable: true, configurable: false, writable: false });
  dispatch(new Event('libersignready'));
})();
