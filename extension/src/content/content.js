// Content script (isolated world). It relays the page API of docs/PAGE-API.md to the
// background and turns `data-paraphe-*` markup into a sign button. It decides nothing:
// validation, origin checks and consent all happen in the background, which learns the
// page's origin from the browser, not from this script or the page.
(() => {
  'use strict';
  const api = globalThis.browser ?? globalThis.chrome;
  const CHUNK_BYTES = 512 * 1024; // document read size; base64 over extension messaging
  const MAX_ID_LENGTH = 128;

  // Firefox: objects handed to the page must be cloned into its compartment.
  const toPage = (value) => (typeof cloneInto === 'function' ? cloneInto(value, window) : value);
  const pageOrigin = () => (window.location.origin === 'null' ? '*' : window.location.origin);

  async function background(message) {
    let reply;
    try {
      reply = await api.runtime.sendMessage(message);
    } catch (e) {
      // The extension was reloaded or updated under this page.
      throw { code: 'EXTENSION_UNAVAILABLE', message: String(e?.message ?? e) };
    }
    if (!reply) throw { code: 'EXTENSION_UNAVAILABLE', message: 'no answer from the extension' };
    if (reply.error) throw reply.error;
    return reply.result;
  }

  const pageRequest = (request) => background({ kind: 'page', request: JSON.stringify(request) });

  /** Streams a Blob through the background's WASM hasher, one chunk at a time. */
  async function hashBlob(blob, algorithm) {
    const hashId = crypto.randomUUID();
    await background({ kind: 'hash-start', hashId, algorithm });
    const reader = blob.stream().getReader();
    let pending = new Uint8Array(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (value) pending = concat(pending, value);
      while (pending.length >= CHUNK_BYTES || (done && pending.length > 0)) {
        const chunk = pending.subarray(0, CHUNK_BYTES);
        pending = pending.subarray(chunk.length);
        await background({ kind: 'hash-update', hashId, data: base64(chunk) });
      }
      if (done) break;
    }
    return (await background({ kind: 'hash-finish', hashId })).digest;
  }

  function concat(a, b) {
    if (a.length === 0) return b;
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }

  function base64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  /** `signDocument` is the one request handled here: the file never leaves the tab's process whole. */
  async function signDocument(request) {
    const { file, name, hashAlgorithm = 'sha256', ...rest } = request;
    if (!(file instanceof Blob)) throw { code: 'INVALID_REQUEST', message: 'file must be a File or Blob' };
    const digest = await hashBlob(file, hashAlgorithm);
    const docName = typeof name === 'string' ? name : (file.name ?? '');
    return pageRequest({ ...rest, type: 'signHash', hashes: [{ digest, hashAlgorithm, name: docName }] });
  }

  // ---- window.postMessage relay -----------------------------------------------------------

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const data = event.data;
    if (!data || data.paraphe !== 'request') return;
    if (data.request?.type === 'decrypt') return; // content/decrypt.js
    const { id } = data;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return;
    let request;
    try {
      const raw = data.request;
      // Plain data only (JSON round trip), except the document Blob of signDocument.
      request = raw?.type === 'signDocument'
        ? { ...JSON.parse(JSON.stringify({ ...raw, file: undefined })), file: raw.file }
        : JSON.parse(JSON.stringify(raw));
    } catch {
      request = null;
    }
    const reply = (body) => window.postMessage(toPage({ paraphe: 'response', id, ...body }), pageOrigin());
    const work = !request || typeof request !== 'object'
      ? Promise.reject({ code: 'INVALID_REQUEST', message: 'request must be an object' })
      : request.type === 'signDocument' ? signDocument(request) : pageRequest(request);
    work.then((result) => reply({ result }), (error) => reply({ error: plainError(error) }));
  });

  function plainError(e) {
    if (e && typeof e.code === 'string') return { ...e };
    return { code: 'INTERNAL', message: String(e?.message ?? e) };
  }

  // Lets a page (or the client library) know the extension is there without waiting.
  if (document.documentElement) document.documentElement.dataset.parapheExtension = api.runtime.getManifest().version;
  window.postMessage(toPage({ paraphe: 'ready', version: api.runtime.getManifest().version }), pageOrigin());

  // ---- data-paraphe-* markup --------------------------------------------------------------
  //   <form data-paraphe-sign data-paraphe-hash="<hex|base64>" data-paraphe-hash-alg="sha256"
  //         data-paraphe-name="contrat.pdf" data-paraphe-target="#signature"
  //         data-paraphe-certificate-target="#certificate">
  //   or data-paraphe-file="#input-file" instead of data-paraphe-hash.

  const ENHANCED = 'parapheEnhanced';

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

  async function signMarkup(el, button) {
    const d = el.dataset;
    const find = (selector) => (selector ? document.querySelector(selector) : null);
    button.disabled = true;
    try {
      const hashAlgorithm = d.parapheHashAlg || 'sha256';
      const common = d.parapheCertificate ? { certificate: d.parapheCertificate } : {};
      let result;
      if (d.parapheFile) {
        const file = find(d.parapheFile)?.files?.[0];
        if (!file) throw { code: 'INVALID_REQUEST', message: 'no file chosen' };
        result = await signDocument({ ...common, file, hashAlgorithm, name: d.parapheName });
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

  function scan(root) {
    if (root.matches?.('[data-paraphe-sign]')) enhance(root);
    for (const el of root.querySelectorAll?.('[data-paraphe-sign]') ?? []) enhance(el);
  }

  function start() {
    scan(document);
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) scan(n);
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
