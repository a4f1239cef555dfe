// Relay of NexU answered in the page (isolated world; docs/RADAR.md « NexU »), next to
// content/nexu-page.js on the origins enabled for NexU only. It decides nothing: each call
// goes to the background on its own runtime port, which checks the frame's origin (from the
// browser) and answers as NexU's server would.
(() => {
  'use strict';
  const api = globalThis.browser ?? globalThis.chrome;
  const MAX_BODY = 4 * 1024 * 1024;
  const toPage = (/** @type {object} */ value) => (typeof cloneInto === 'function' ? cloneInto(value, window) : value);
  const target = window.origin === 'null' ? '*' : window.origin;

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const d = event.data;
    if (d?.src !== 'paraphe-nexu' || typeof d.nonce !== 'string' || d.nonce.length > 128) return;
    /** @param {{status: number, type: string, body: string}} reply as NexU's server would answer */
    const answer = (reply) => window.postMessage(toPage({ src: 'paraphe-nexu-answer', nonce: d.nonce, ...reply }), target);
    if (typeof d.path !== 'string' || typeof d.method !== 'string' || typeof d.body !== 'string' || d.body.length > MAX_BODY) {
      answer({ status: 400, type: 'application/json', body: '{"success":false,"error":"INVALID_REQUEST"}' });
      return;
    }
    let port;
    let answered = false;
    try {
      port = api.runtime.connect({ name: 'nexu' });
    } catch {
      answer({ status: 503, type: 'application/json', body: '{"success":false,"error":"EXTENSION_UNAVAILABLE"}' });
      return;
    }
    port.onMessage.addListener((msg) => {
      if (answered || !msg?.reply) return;
      answered = true;
      answer(msg.reply);
      port.disconnect();
    });
    port.onDisconnect.addListener(() => {
      if (answered) return;
      answered = true;
      answer({ status: 503, type: 'application/json', body: '{"success":false,"error":"EXTENSION_UNAVAILABLE"}' });
    });
    port.postMessage({
      method: d.method.slice(0, 10), path: d.path.slice(0, 200), body: d.body,
      frameOrigin: window.origin, activation: globalThis.parapheUserActivation?.() === true,
    });
  });
})();
