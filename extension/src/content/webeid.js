// @ts-check
// Web eID compatibility, content side (isolated world): answers the `web-eid:*`
// window.postMessage requests of web-eid.js 2.x as the Web eID extension's content script
// does, so a site built for Web eID works unchanged. It relays and decides nothing: the
// background (background/webeid.js) validates, asks for consent and builds every answer;
// the origin it uses is the one the browser gives it, not this script's. Mapping:
// docs/WEB-EID.md.
(() => {
  'use strict';
  const { api, toPage, activated } = globalThis.parapheContent; // content/shared.js
  const REQUESTS = ['web-eid:status', 'web-eid:authenticate', 'web-eid:get-signing-certificate', 'web-eid:sign'];

  /** A web-eid.js error answer. @param {string} action @param {string} name @param {string} code @param {string} message */
  const failure = (action, name, code, message) => ({ action: `${action}-failure`, error: { name, message, code } });

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const action = event.data?.action;
    if (!REQUESTS.includes(action)) return; // our own -ack/-success/-failure and web-eid:warning included
    // web-eid.js only accepts answers from this window and origin (CWE-346 fix).
    const reply = (/** @type {object} */ message) => window.postMessage(toPage(message), event.origin === 'null' ? '*' : event.origin);
    if (!window.isSecureContext) {
      reply(failure(action, 'ContextInsecureError', 'ERR_WEBEID_CONTEXT_INSECURE', 'Secure context required'));
      return;
    }
    // web-eid.js gives the extension 1 s to acknowledge before it reports it unavailable.
    reply({ action: `${action}-ack` });
    let text;
    try {
      text = JSON.stringify(event.data);
    } catch {
      text = '{}';
    }
    const unavailable = (/** @type {string} */ why) => failure(action, 'ExtensionUnavailableError', 'ERR_WEBEID_EXTENSION_UNAVAILABLE',
      `the Paraphe extension did not answer: ${why}`);
    // Whether the person is using the page (content/activation.js): consent windows open only then.
    const activation = activated();
    api.runtime.sendMessage({ kind: 'webeid', request: text, frameOrigin: window.origin, activation }).then(
      (answer) => {
        const response = answer?.result;
        if (typeof response?.action === 'string' && response.action.startsWith(`${action}-`)) reply(response);
        else reply(unavailable(answer?.error?.message ?? 'no answer'));
      },
      (e) => reply(unavailable(String(e?.message ?? e))), // the extension was reloaded under this page
    );
  });
})();
