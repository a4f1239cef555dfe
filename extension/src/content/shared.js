// @ts-check
// What every content script of the isolated world needs, once (loaded first, by the
// manifest and with the LiberSign relay): the WebExtension namespace, handing values to the
// page, the page's origin as a postMessage target, base64, whether the person is using
// the frame, the runtime port client (also loaded by sign/sign.html), and the extension frame
// that reads the page's files (frame/frame.js). Content scripts cannot import modules; they
// read `globalThis.parapheContent`, which the page cannot reach (isolated world). Nothing here
// decides anything.
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
   * `{code, message}` and the error's other fields, from anything thrown (the background's
   * `{code, message}`, an Error, a string): what a page or the background is handed.
   * @param {unknown} thrown
   * @returns {{code: string, message: string, [field: string]: unknown}}
   */
  function plainError(thrown) {
    const e = /** @type {{code?: unknown, message?: unknown} | null | undefined} */ (thrown); // a primitive's fields: undefined
    if (e && typeof e.code === 'string') return /** @type {{code: string, message: string}} */ ({ ...e });
    return { code: 'INTERNAL', message: String(e?.message ?? e) };
  }

  /**
   * One request on its own runtime port `name` (background/background.js): the background
   * may send `{progress}` messages (one per signed item of a batch) and `{ask}` questions,
   * answered on the same port with what `onAsk` resolves (or `{error}`: plainError of what it
   * throws), before `{result}` or `{error}`. Used by the page API (content.js, port "page")
   * and by « Signer des fichiers » (sign/sign.js, port "sign-files"). Rejects with the
   * background's error, or `EXTENSION_UNAVAILABLE` when the port cannot open or the
   * background goes away first (the extension was reloaded or updated).
   * @param {string} name
   * @param {object} message the first message on the port
   * @param {{onProgress?: (progress: any) => void, onAsk?: (ask: any) => Promise<unknown>}} [handlers]
   * @returns {Promise<any>}
   */
  function portRequest(name, message, { onProgress = () => {}, onAsk } = {}) {
    return new Promise((resolve, reject) => {
      let port;
      try {
        port = api.runtime.connect({ name });
      } catch (e) {
        reject({ code: 'EXTENSION_UNAVAILABLE', message: String(e?.message ?? e) });
        return;
      }
      let done = false;
      port.onMessage.addListener((msg) => {
        if (msg?.progress) {
          onProgress(msg.progress);
          return;
        }
        if (msg?.ask) {
          const id = msg.ask.id;
          const answer = (/** @type {{result: unknown} | {error: object}} */ body) => {
            if (!done) port.postMessage({ answer: { id, ...body } });
          };
          (onAsk ? onAsk(msg.ask) : Promise.reject({ code: 'INVALID_REQUEST', message: 'nothing to answer with' }))
            .then((result) => answer({ result }), (e) => answer({ error: plainError(e) }));
          return;
        }
        done = true;
        port.disconnect();
        if (msg?.error) reject(msg.error);
        else resolve(msg?.result);
      });
      port.onDisconnect.addListener(() => {
        // Only when the background went away first.
        if (done) return;
        done = true;
        reject({ code: 'EXTENSION_UNAVAILABLE', message: 'the extension went away' });
      });
      port.postMessage(message);
    });
  }

  /**
   * Has the background check a request that carries files (`signDocument`, `signDocuments`,
   * `decrypt`; wasm/src/request.rs `validate_files`) before any file is read. A File or Blob
   * cannot cross, so each is described as `{blob: true}` (`{blob: false}`: not a Blob).
   * `request` is plain data but for its files (content.js, decrypt.js). Rejects with `{code, message}`.
   * @param {{type?: unknown, documents?: unknown, file?: unknown, [field: string]: unknown}} request
   *   the page's (each field its word: the background checks)
   */
  function checkFiles(request) {
    const file = (/** @type {unknown} */ f) => ({ blob: f instanceof Blob });
    let described;
    if (request.type === 'signDocuments') {
      const documents = Array.isArray(request.documents)
        ? request.documents.map((/** @type {unknown} */ d) => (d !== null && typeof d === 'object' ? { ...d, file: file(/** @type {{file?: unknown}} */ (d).file) } : d))
        : null;
      described = { ...request, documents };
    } else {
      described = { ...request, file: file(request.file) };
    }
    return background({ kind: 'check-files', request: JSON.stringify(described) });
  }

  // ---- the extension frame ---------------------------------------------------------------
  // frame/frame.js: a hidden extension page in a closed shadow root, handed each File or Blob
  // by structured clone over a MessagePort; it reads the file in the extension's process
  // (document digests, plis) and answers the result. Shared by this document's requests
  // while some use it (content.js: digests; decrypt.js: plis).

  const FRAME_URL = api.runtime.getURL('frame/frame.html');
  /** How long the frame may take to start before the caller goes its slower way. */
  const FRAME_START_MS = 20_000;
  /** @type {ExtensionFrame | null} */
  let current = null; // the frame, while some request uses it

  /**
   * The extension frame; `await frame.ready` (false: it did not start), `frame.run(job,
   * onProgress)`, and `frame.release()` when done.
   * @returns {ExtensionFrame}
   */
  function extensionFrame() {
    if (!current) {
      const token = crypto.randomUUID();
      // A plain <div>: no custom element of the page's own can stand in for it.
      const host = document.createElement('div');
      host.setAttribute('style', 'display: none !important');
      const iframe = document.createElement('iframe');
      iframe.src = `${FRAME_URL}#${token}`;
      host.attachShadow({ mode: 'closed' }).append(iframe);
      const channel = new MessageChannel();
      const pending = new Map(); // id → {resolve, reject, onProgress}
      let nextId = 0;
      /** @type {(started: boolean) => void} */
      let started = () => {};
      const ready = new Promise((resolve) => { started = resolve; });
      const timer = setTimeout(() => started(false), FRAME_START_MS);
      channel.port1.onmessage = ({ data }) => {
        if (data?.ready) {
          clearTimeout(timer);
          started(true);
          return;
        }
        const job = pending.get(data?.id);
        if (!job) return;
        if (typeof data.progress === 'number') {
          job.onProgress(data.progress);
          return;
        }
        pending.delete(data.id);
        if (data.error) job.reject(data.error);
        else job.resolve(data.result);
      };
      iframe.addEventListener('load', () => {
        iframe.contentWindow?.postMessage({ paraphe: 'frame-port', token }, new URL(FRAME_URL).origin, [channel.port2]);
      }, { once: true });
      document.documentElement.append(host);
      /** @type {ExtensionFrame} */
      const frame = {
        users: 0,
        ready,
        /**
         * One job (frame/frame.js lists them); `job.blob`, where the job has one, is the
         * page's File or Blob.
         * @param {{kind: string, blob?: Blob} & Record<string, unknown>} job
         * @param {(done: number) => void} [onProgress]
         */
        run(job, onProgress = () => {}) {
          const id = ++nextId;
          return new Promise((resolve, reject) => {
            pending.set(id, { resolve, reject, onProgress });
            // Firefox: a Blob of this compartment, not an Xray of the page's (no copy).
            channel.port1.postMessage({ ...job, id, blob: FIREFOX && job.blob ? structuredClone(job.blob) : job.blob });
          });
        },
        release() {
          if (--frame.users > 0) return;
          clearTimeout(timer);
          channel.port1.close();
          host.remove();
          if (current === frame) current = null;
          for (const job of pending.values()) job.reject({ code: 'INTERNAL', message: 'the extension frame went away' });
        },
      };
      current = frame;
    }
    current.users++;
    return current;
  }

  globalThis.parapheContent = Object.freeze({
    api,
    background,
    checkFiles,
    extensionFrame,
    plainError,
    portRequest,
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
