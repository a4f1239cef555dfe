// @ts-check
// What every content script of the isolated world needs, once (loaded first, by the
// manifest and with the LiberSign relay): the WebExtension namespace, handing values to the
// page, the page's origin as a postMessage target, base64, and whether the person is using
// the frame. Content scripts cannot import modules; they read `globalThis.parapheContent`,
// which the page cannot reach (isolated world). Nothing here decides anything.
(() => {
  'use strict';
  if (globalThis.parapheContent) return; // registered twice (LiberSign relay)

  // Firefox: objects handed to the page must be cloned into its compartment; Chromium's
  // content scripts have no cloneInto.
  const FIREFOX = typeof cloneInto === 'function';

  globalThis.parapheContent = Object.freeze({
    api: /** @type {typeof chrome} */ (globalThis.browser ?? globalThis.chrome),
    FIREFOX,
    /** @type {<T>(value: T) => T} */
    toPage: (value) => (FIREFOX ? cloneInto(value, window) : value),
    /** postMessage's target for this frame: `*` for a sandboxed (opaque) document. */
    pageOrigin: () => (window.origin === 'null' ? '*' : window.origin),
    /** Whether the person is using this frame (content/activation.js). */
    activated: () => globalThis.parapheUserActivation?.() === true,
    /** @param {Uint8Array} bytes */
    base64(bytes) {
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, /** @type {any} */ (bytes.subarray(i, i + 0x8000)));
      return btoa(s);
    },
    /** @param {string} text */
    fromBase64(text) {
      const s = atob(text);
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    },
  });
})();
