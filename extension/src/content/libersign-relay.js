// @ts-check
// Relay of the LiberSign-compatible interface (isolated world; docs/LIBERSIGN.md). Registered
// by the background only on allowed origins, next to libersign-page.js. It decides nothing:
// each request goes to the background on its own runtime port, which checks the origin again
// (from the browser, not from this script), and the answer comes back with the page's nonce.
//
// The one thing answered here is UPDATE, LiberSign's server-pushed code channel: always
// « up to date », never forwarded, nothing read from it.
(() => {
  'use strict';
  // Once per frame: registered, or injected into a page that was open before (background/libersign.js).
  if (globalThis.parapheLibersignRelay) return;
  globalThis.parapheLibersignRelay = true;
  const { api, toPage, pageOrigin, activated } = globalThis.parapheContent; // content/shared.js
  const FORWARDED = new Set(['ECHO', 'LISTCERTS', 'SIGN', 'VERSION', 'FULLVERSION', 'GETHASH']);
  const MAX_NONCE_LENGTH = 128;
  const target = pageOrigin();
  const toWindow = (/** @type {Record<string, unknown>} */ body) => window.postMessage(toPage({ ...body, src: 'service_worker.js' }), target);

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const data = event.data;
    if (!data || data.src !== 'page.js' || typeof data.action !== 'string') return;
    const { nonce, action } = data;
    if (!((typeof nonce === 'string' && nonce.length > 0 && nonce.length <= MAX_NONCE_LENGTH) || Number.isFinite(nonce))) return;
    const answer = (/** @type {Record<string, unknown>} */ body) => toWindow({ ...body, nonce });

    if (action === 'UPDATE') {
      answer({ result: 'ok', updated: false, uptodate: true });
      return;
    }
    if (!FORWARDED.has(action)) {
      answer({ result: 'error', code: 'INVALID_REQUEST', exception: `unknown action ${action.slice(0, 40)}` });
      return;
    }
    let request;
    try {
      request = JSON.parse(JSON.stringify(data));
    } catch {
      answer({ result: 'error', code: 'INVALID_REQUEST', exception: 'the request is not plain data' });
      return;
    }

    let port;
    let answered = false;
    try {
      port = api.runtime.connect({ name: 'libersign' });
    } catch (e) {
      answer({ result: 'error', code: 'EXTENSION_UNAVAILABLE', exception: String(e?.message ?? e) });
      return;
    }
    port.onMessage.addListener((msg) => {
      if (typeof msg?.progress === 'string') {
        toWindow({ progress: msg.progress });
      } else if (msg?.reply && !answered) {
        answered = true;
        answer(msg.reply);
        port.disconnect();
      }
    });
    port.onDisconnect.addListener(() => {
      if (!answered) {
        answered = true;
        answer({ result: 'error', code: 'EXTENSION_UNAVAILABLE', exception: 'Paraphe stopped answering' });
      }
    });
    // The frame's origin is checked by background/origin.js; with whether the person is using
    // the page (content/activation.js): a consent window opens only then (background/consent.js).
    port.postMessage({ ...request, frameOrigin: window.origin, activation: activated() });
  });
})();
