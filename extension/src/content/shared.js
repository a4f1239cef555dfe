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

  const api = /** @type {typeof chrome} */ (globalThis.browser ?? globalThis.chrome);

  /**
   * One message to the background (runtime.sendMessage), with this frame's origin as the
   * isolated world sees it (background/origin.js). Resolves with its `result`; rejects with
   * `{code, message}`.
   * @param {object} message
   */
  async function background(message) {
    let reply;
    try {
      reply = await api.runtime.sendMessage({ ...message, frameOrigin: window.origin });
    } catch (e) {
      throw { code: 'EXTENSION_UNAVAILABLE', message: String(e?.message ?? e) };
    }
    if (!reply) throw { code: 'EXTENSION_UNAVAILABLE', message: 'no answer from the extension' };
    if (reply.error) throw { code: String(reply.error.code), message: String(reply.error.message) };
    return reply.result;
  }

  /**
   * Has the background check a request that carries files (`signDocument`, `signDocuments`,
   * `decrypt`; wasm/src/request.rs `validate_files`) before any file is read. A File or Blob
   * cannot cross, so each is described as `{blob: true}` (`{blob: false}`: not a Blob).
   * `request` is plain data but for its files (content.js, decrypt.js). Rejects with `{code, message}`.
   * @param {any} request
   */
  function checkFiles(request) {
    const file = (/** @type {unknown} */ f) => ({ blob: f instanceof Blob });
    let described;
    if (request.type === 'signDocuments') {
      const documents = Array.isArray(request.documents)
        ? request.documents.map((/** @type {any} */ d) => (d !== null && typeof d === 'object' ? { ...d, file: file(d.file) } : d))
        : null;
      described = { ...request, documents };
    } else {
      described = { ...request, file: file(request.file) };
    }
    return background({ kind: 'check-files', request: JSON.stringify(described) });
  }

  globalThis.parapheContent = Object.freeze({
    api,
    background,
    checkFiles,
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
