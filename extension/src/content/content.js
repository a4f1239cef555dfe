// @ts-check
// Content script (isolated world). It relays the page API of docs/PAGE-API.md to the
// background and turns `data-paraphe-*` markup into a sign button. It decides nothing:
// validation, origin checks and consent all happen in the background, which learns the
// page's origin from the browser, not from this script or the page. Each request carries
// this frame's own origin as the isolated world sees it (`frameOrigin`): the background
// refuses an opaque one, and needs it where the browser does not say (background/origin.js).
// The extension's version is not announced to pages (docs/SECURITY.md).
(() => {
  'use strict';
  // Firefox (FIREFOX): extension messages are cloned (binary data goes as is) where
  // Chromium's are JSON (base64 needed); page objects are seen through Xrays (reading a
  // page's Blob through them is slow).
  const { api, FIREFOX, toPage, pageOrigin, activated, base64, fromBase64, checkFiles, extensionFrame, plainError, portRequest } = globalThis.parapheContent; // content/shared.js
  const CHUNK_BYTES = 512 * 1024; // document read size (hashBlob)
  const MAX_ID_LENGTH = 128;

  /**
   * A page's `signDocument` / `signDocuments` request, plain data but for its files. Its
   * shape is the page's word until the background checked it (checkFiles), before any use.
   * @typedef {{file: Blob & {name?: string}, name?: unknown}} PageDocument
   * @typedef {{
   *   type: 'signDocument' | 'signDocuments', file?: Blob & {name?: string}, name?: unknown,
   *   documents?: PageDocument[], hashAlgorithm?: string, format?: unknown, [field: string]: unknown,
   * }} DocumentsRequest
   */
  /** `{code, message}` and the error's other fields, as a page gets them. @typedef {{code: string, message: string, [field: string]: unknown}} PlainError */
  /**
   * What the background says on a page request's port (background/background.js, sign.js):
   * a signature (base64; `index`: its document's, in progress reports), a batch's progress,
   * and its question for a PAdES layout.
   * @typedef {{signature: string, index?: number, [field: string]: unknown}} SignedItem
   * @typedef {{done: number, total: number, signature: SignedItem & {index: number}}} Progress
   * @typedef {{id: number, layout: {index: number, certificate: string, hashAlgorithm: string, now: number, visible?: boolean, timestamp?: boolean, reply: string}}} Question
   */

  /**
   * One page API request on its own runtime port "page" (shared.js portRequest): the
   * background may send `{progress}` messages (one per signed document of a batch) before
   * `{result}` or `{error}`, and `{ask}` questions this script answers with `onAsk` (PAdES: a
   * PDF laid out in the extension frame for the chosen certificate).
   * `activation`: whether the person was using the page when it asked (consent windows open
   * only then, background/consent.js).
   * @param {object} request
   * @param {(p: Progress) => void} [onProgress]
   * @param {boolean} [activation]
   * @param {(question: Question) => Promise<unknown>} [onAsk]
   */
  function pageRequest(request, onProgress = () => {}, activation = activated(), onAsk = undefined) {
    return portRequest('page', { request: JSON.stringify(request), frameOrigin: window.origin, activation }, { onProgress, onAsk });
  }

  // ---- document digests ----------------------------------------------------------------
  // In the extension frame (frame/frame.js, content/shared.js): it reads and hashes the file
  // in the extension's process and answers the digest. Where that frame cannot start (it
  // never takes its port), documents go to the background in chunks instead (hashBlob),
  // slower: Chromium's extension messages are JSON, so each chunk crosses as base64.

  /**
   * Digests of `blobs`, in order: in the extension frame, or through the background.
   * @param {Blob[]} blobs
   * @param {string} algorithm
   * @returns {Promise<string[]>} lowercase hex
   */
  async function hashDocuments(blobs, algorithm) {
    const frame = extensionFrame();
    try {
      const inFrame = await frame.ready;
      const digests = [];
      for (const blob of blobs) digests.push(await (inFrame ? frame.run({ kind: 'hash', blob, algorithm }) : hashBlob(blob, algorithm)));
      return digests;
    } finally {
      frame.release();
    }
  }

  const HASH_IN_FLIGHT = 4;

  /**
   * Streams a Blob through the background's WASM hasher on a runtime port, a few chunks in
   * flight: never more than HASH_IN_FLIGHT chunks of the file in memory at once. Only where
   * the extension frame cannot start.
   * @param {Blob} blob
   * @param {string} algorithm
   * @returns {Promise<string>} lowercase hex
   */
  function hashBlob(blob, algorithm) {
    const source = FIREFOX ? structuredClone(blob) : blob; // a Blob of this compartment
    return new Promise((resolve, reject) => {
      const port = api.runtime.connect({ name: 'hash' });
      let acked = 0;
      /** @type {((value?: unknown) => void) | null} */
      let wake = null;
      /** @type {unknown} */
      let failed = null;
      const stop = (/** @type {unknown} */ error) => {
        failed ??= error;
        wake?.();
        reject(error);
      };
      port.onMessage.addListener((m) => {
        if (m?.ack) {
          acked++;
          wake?.();
        } else if (m?.digest) {
          port.disconnect();
          resolve(m.digest);
        } else {
          port.disconnect();
          stop(m?.error ?? { code: 'INTERNAL', message: 'unexpected answer' });
        }
      });
      port.onDisconnect.addListener(() => stop({ code: 'EXTENSION_UNAVAILABLE', message: 'the extension went away' }));
      port.postMessage({ algorithm, frameOrigin: window.origin });
      (async () => {
        let sent = 0;
        for (let offset = 0; offset < source.size && !failed; offset += CHUNK_BYTES) {
          const chunk = await source.slice(offset, offset + CHUNK_BYTES).arrayBuffer();
          while (sent - acked >= HASH_IN_FLIGHT && !failed) await new Promise((r) => { wake = r; });
          if (failed) return;
          port.postMessage({ data: FIREFOX ? chunk : base64(new Uint8Array(chunk)) });
          sent++;
        }
        if (!failed) port.postMessage({ finish: true });
      })().catch((e) => stop({ code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` }));
    });
  }

  /**
   * `signDocument` and `signDocuments` are handled here: each file is hashed in the extension
   * frame (the page's process does not read it), then the digests are signed as one `signHash`.
   * PAdES (`format: 'pades'`): each PDF is checked in the frame as it is hashed (before any
   * consent); once the person chose a certificate, the background asks for each PDF laid out
   * for it (`{ask: {layout: {index, certificate, hashAlgorithm, now, reply}}}`), which the frame
   * makes from what it kept of that PDF (frame/frame.js: never the whole file) and sends the
   * background itself; each signed PDF comes back as its incremental update, appended here to the page's
   * own Blob (no copy of the file) and handed to the page as a Blob.
   * @param {DocumentsRequest} request
   * @param {(p: object) => void} [onProgress] each signed document (a batch's progress)
   * @param {boolean} [activation]
   */
  async function signDocuments(request, onProgress, activation = activated()) {
    const { type, file, documents, name, hashAlgorithm = 'sha256', ...rest } = request;
    await checkFiles(request); // documents and files: wasm/src/request.rs
    const list = /** @type {PageDocument[]} */ (type === 'signDocument' ? [{ file, name }] : documents);
    const names = list.map((doc) => (typeof doc.name === 'string' ? doc.name : (doc.file.name ?? '')));
    if (rest.format !== 'pades') {
      const digests = await hashDocuments(list.map((doc) => doc.file), hashAlgorithm);
      const hashes = list.map((doc, i) => ({ digest: digests[i], hashAlgorithm, name: names[i], size: doc.file.size }));
      return pageRequest({ ...rest, type: 'signHash', hashes }, onProgress, activation);
    }
    const frame = extensionFrame();
    const prefix = crypto.randomUUID(); // the frame keeps each PDF checked under `${prefix}:${i}`
    /** @type {string[]} */
    const checked = [];
    try {
      if (!(await frame.ready)) throw { code: 'INTERNAL', message: 'PAdES needs the extension frame, which did not start' };
      /** @type {string[]} */
      const digests = [];
      for (const [i, doc] of list.entries()) {
        try {
          checked.push(`${prefix}:${i}`);
          digests.push(await frame.run({ kind: 'pdf-check', blob: doc.file, algorithm: hashAlgorithm, key: `${prefix}:${i}` }));
        } catch (e) {
          const err = plainError(e);
          throw { ...err, message: `${names[i] || `document ${i + 1}`}: ${err.message}` };
        }
      }
      const hashes = list.map((doc, i) => ({ digest: digests[i], hashAlgorithm, name: names[i], size: doc.file.size }));
      const layout = async (/** @type {Question} */ ask) => {
        const q = ask?.layout;
        if (!Number.isInteger(q?.index) || !list[q.index]) throw { code: 'INVALID_REQUEST', message: 'no such document' };
        // The frame sends the layout to the background itself (frame/frame.js).
        return frame.run({
          kind: 'pdf-layout', key: `${prefix}:${q.index}`, certificate: q.certificate, now: q.now,
          visible: q.visible === true, timestamp: q.timestamp === true, reply: q.reply,
        });
      };
      // The signed PDF: the page's file followed by the update (Blob parts: nothing copied).
      const signedPdf = (/** @type {SignedItem} */ s, /** @type {number} */ index) => ({
        ...s, signature: new Blob([list[index].file, fromBase64(s.signature)], { type: 'application/pdf' }),
      });
      const progress = (/** @type {Progress} */ p) => /** @type {(p: object) => void} */ (onProgress)({ ...p, signature: signedPdf(p.signature, p.signature.index) });
      try {
        const result = await pageRequest({ ...rest, type: 'signHash', hashes }, progress, activation, layout);
        return { ...result, signatures: result.signatures.map(signedPdf) };
      } catch (e) {
        if (Array.isArray(e?.signatures) && Array.isArray(e?.signed)) {
          throw { ...e, signatures: e.signatures.map((/** @type {SignedItem} */ s, /** @type {number} */ k) => signedPdf(s, e.signed[k])) };
        }
        throw e;
      }
    } finally {
      for (const key of checked) frame.run({ kind: 'pdf-release', key }).catch(() => {});
      frame.release();
    }
  }

  /**
   * Plain data (a JSON round trip), except the Blobs of signDocument(s).
   * @param {{type?: unknown, file?: unknown, documents?: unknown, [field: string]: unknown} | null | undefined} raw
   *   the page's request: anything (a primitive's fields read as undefined; JSON.stringify takes what it can)
   */
  function plainRequest(raw) {
    if (raw?.type === 'signDocument') return { ...JSON.parse(JSON.stringify({ ...raw, file: undefined })), file: raw.file };
    if (raw?.type === 'signDocuments') {
      const documents = Array.isArray(raw.documents)
        ? raw.documents.map((/** @type {{file?: unknown} | null | undefined} */ d) => ({ ...JSON.parse(JSON.stringify({ ...d, file: undefined })), file: d?.file }))
        : raw.documents;
      return { ...JSON.parse(JSON.stringify({ ...raw, documents: undefined })), documents };
    }
    return JSON.parse(JSON.stringify(raw));
  }

  // ---- window.postMessage relay -----------------------------------------------------------

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const data = event.data;
    if (!data || data.paraphe !== 'request') return;
    if (data.request?.type === 'decrypt') return; // content/decrypt.js
    const { id } = data;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return;
    const activation = activated(); // now, before hashing documents takes its time
    let request;
    try {
      request = plainRequest(data.request);
    } catch {
      request = null;
    }
    const reply = (/** @type {{result: unknown} | {error: PlainError}} */ body) => window.postMessage(toPage({ paraphe: 'response', id, ...body }), pageOrigin());
    // Each signed document of a batch, as soon as it is signed.
    const progress = (/** @type {object} */ p) => window.postMessage(toPage({ paraphe: 'progress', id, ...p }), pageOrigin());
    let work;
    if (!request || typeof request !== 'object') {
      work = Promise.reject({ code: 'INVALID_REQUEST', message: 'request must be an object' });
    } else if (request.type === 'signDocument' || request.type === 'signDocuments') {
      work = signDocuments(request, progress, activation);
    } else if (request.type === 'signHash' && request.format === 'pades') {
      work = Promise.reject({ code: 'INVALID_REQUEST', message: 'the pades format signs files: signDocument or signDocuments' });
    } else {
      work = pageRequest(request, progress, activation);
    }
    work.then((result) => reply({ result }), (error) => reply({ error: plainError(error) }));
  });


  // Lets a page (or the client library) know the extension is there without waiting; not
  // which version it is (`ping` tells sites the person allowed).
  if (document.documentElement) document.documentElement.dataset.parapheExtension = '1';
  window.postMessage(toPage({ paraphe: 'ready' }), pageOrigin());

  // ---- data-paraphe-* markup --------------------------------------------------------------
  //   <form data-paraphe-sign data-paraphe-hash="<hex|base64>" data-paraphe-hash-alg="sha256"
  //         data-paraphe-name="contrat.pdf" data-paraphe-target="#signature"
  //         data-paraphe-certificate-target="#certificate">
  //   or data-paraphe-file="#input-file" instead of data-paraphe-hash.

  const ENHANCED = 'parapheEnhanced';

  /** @param {HTMLElement} el a `data-paraphe-sign` element of the page */
  function enhance(el) {
    if (el.dataset[ENHANCED]) return;
    el.dataset[ENHANCED] = '1';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'paraphe-sign-button';
    button.textContent = api.i18n.getMessage('markupSignButton') || 'Signer avec ma carte';
    button.addEventListener('click', () => signMarkup(el, button));
    el.append(button);
  }

  /** @param {HTMLElement} el @param {HTMLButtonElement} button */
  async function signMarkup(el, button) {
    const d = el.dataset;
    /** The page's input the markup names (any element: the page's word). */
    const find = (/** @type {string | undefined} */ selector) => /** @type {HTMLInputElement | null} */ (selector ? document.querySelector(selector) : null);
    button.disabled = true;
    try {
      const hashAlgorithm = d.parapheHashAlg || 'sha256';
      const common = d.parapheCertificate ? { certificate: d.parapheCertificate } : {};
      let result;
      if (d.parapheFile) {
        const file = find(d.parapheFile)?.files?.[0];
        if (!file) throw { code: 'INVALID_REQUEST', message: 'no file chosen' };
        result = await signDocuments({ ...common, type: 'signDocument', file, hashAlgorithm, name: d.parapheName });
      } else {
        const hashes = [{ digest: d.parapheHash ?? '', hashAlgorithm, ...(d.parapheName ? { name: d.parapheName } : {}) }];
        result = await pageRequest({ ...common, type: 'signHash', hashes });
      }
      const signature = result.signatures[0].signature;
      const target = find(d.parapheTarget);
      if (target) target.value = signature;
      const certTarget = find(d.parapheCertificateTarget);
      if (certTarget) certTarget.value = result.certificate.certificate;
      el.dispatchEvent(new CustomEvent('paraphe:signed', { bubbles: true, detail: toPage({ signature, certificate: result.certificate.certificate, digest: result.signatures[0].digest }) }));
    } catch (e) {
      el.dispatchEvent(new CustomEvent('paraphe:error', { bubbles: true, detail: toPage(plainError(e)) }));
    } finally {
      button.disabled = false;
    }
  }

  /** @param {Document | Element} root the document, or an element added to it */
  function scan(root) {
    if (/** @type {Element} */ (root).matches?.('[data-paraphe-sign]')) enhance(/** @type {HTMLElement} */ (root));
    for (const el of root.querySelectorAll?.('[data-paraphe-sign]') ?? []) enhance(/** @type {HTMLElement} */ (el));
  }

  function start() {
    scan(document);
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) scan(/** @type {Element} */ (n));
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
