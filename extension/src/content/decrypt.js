// @ts-check
// Opening a pli for a web page, content side (isolated world): the page API request
// `{type: 'decrypt', file: Blob, name?}` (docs/PAGE-API.md). The background learns of the
// job first (`pli-start`: the page's origin, from the browser; the tab; the job id), then
// the page's Blob goes to the extension frame (frame/frame.js) by structured clone with that
// job id: the frame reads and decrypts it in the extension's process (the header to the
// background, which asks for consent and has the card unwrap the key), and hands back the
// plaintext as one Blob only once the end of the pli is checked (padding, or the GCM tag).
// This script, in the page's process, never sees the key nor reads a byte of the pli or of
// its plaintext. Progress is posted to the page as {paraphe: 'progress', id, done, total}.
//
// Where the frame cannot start, the slower way: this script reads the Blob in 512 KiB slices
// and relays them to the background (background/pli.js: `pli-chunk`, base64 in Chromium),
// which decrypts and keeps the plaintext until the end is checked, then hands it back
// (`pli-read`).
(() => {
  'use strict';
  const { toPage, pageOrigin, activated, base64, fromBase64, background, checkFiles, extensionFrame } = globalThis.parapheContent; // content/shared.js
  const CHUNK_BYTES = 512 * 1024;
  const MAX_ID_LENGTH = 128;

  /**
   * A page's `decrypt` request, plain data but for its file: the page's word until the
   * background checked it (checkFiles), before any use.
   * @typedef {{type: 'decrypt', file: Blob & {name?: string}, name?: string, [field: string]: unknown}} DecryptRequest
   */

  /** `offre.pdf.p7m` → `offre.pdf`. @param {string} name */
  const plainName = (name) => name.replace(/\.(p7m|p7e|cms|env|enc)$/i, '');

  /** @param {DecryptRequest} request @param {string} id the page's */
  async function decrypt(request, id) {
    await checkFiles(request); // keys, file, name: wasm/src/request.rs
    const { file, name } = request;
    const displayName = name ?? /** @type {File} */ (file).name ?? '';
    // Firefox: the page's Blob is seen through an Xray wrapper; a Blob of this script's own
    // over the same data (no copy) keeps what it returns on this side.
    const source = new Blob([file]);
    const jobId = crypto.randomUUID();
    // Whether the person is using the page (content/activation.js): the consent window
    // opens only then (background/consent.js).
    const activation = activated();
    const progress = (/** @type {number} */ done) => window.postMessage(toPage({ paraphe: 'progress', id, done, total: source.size }), pageOrigin());
    const frame = extensionFrame();
    try {
      const inFrame = await frame.ready;
      await background({ kind: 'pli-start', jobId, name: displayName, size: source.size, activation, frame: inFrame });
      if (!inFrame) return await relayed(source, jobId, displayName, progress);
      try {
        const r = await frame.run({ kind: 'decrypt', blob: source, jobId }, progress);
        return { plaintext: r.plaintext, name: plainName(displayName), size: r.size, ...r.opened };
      } catch (e) {
        background({ kind: 'pli-abort', jobId }).catch(() => {});
        throw e;
      }
    } finally {
      frame.release();
    }
  }

  /**
   * The pli through the background, where the extension frame cannot start.
   * @param {Blob} source @param {string} jobId @param {string} displayName
   * @param {(done: number) => void} progress
   */
  async function relayed(source, jobId, displayName, progress) {
    /** @type {Blob[]} */
    const parts = [];
    let opened = null;
    try {
      for (let offset = 0; offset < source.size; offset += CHUNK_BYTES) {
        // structuredClone: in Firefox the buffer can belong to the page's compartment,
        // where this script may not call methods on it; the clone is this script's own.
        const chunk = new Uint8Array(structuredClone(await source.slice(offset, offset + CHUNK_BYTES).arrayBuffer()));
        const r = await background({ kind: 'pli-chunk', jobId, data: base64(chunk) });
        progress(Math.min(source.size, offset + chunk.length));
        // The header is known: ask for the key before sending more (consent, PIN, card).
        if (r.headerReady && !opened) opened = await background({ kind: 'pli-open', jobId });
      }
      // The background checks the end of the pli, then hands the plaintext out.
      await background({ kind: 'pli-finish', jobId });
      for (let offset = 0, done = false; !done;) {
        const r = await background({ kind: 'pli-read', jobId, offset });
        const bytes = fromBase64(r.plaintext);
        parts.push(new Blob([bytes]));
        offset += bytes.length;
        done = r.done === true || bytes.length === 0;
      }
      const plaintext = new Blob(parts, { type: 'application/octet-stream' });
      return { plaintext, name: plainName(displayName), size: plaintext.size, ...opened };
    } catch (e) {
      background({ kind: 'pli-abort', jobId }).catch(() => {});
      throw e;
    }
  }

  window.addEventListener('message', (event) => {
    if (event.source !== window) return;
    const data = event.data;
    if (!data || data.paraphe !== 'request' || data.request?.type !== 'decrypt') return;
    const { id } = data;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return;
    const reply = (/** @type {{result: unknown} | {error: {code: string, message: string}}} */ body) => window.postMessage(toPage({ paraphe: 'response', id, ...body }), pageOrigin());
    let request;
    try {
      const raw = data.request;
      // Plain data only (JSON round trip), except the Blob.
      request = { ...JSON.parse(JSON.stringify({ ...raw, file: undefined })), file: raw.file };
    } catch {
      reply({ error: { code: 'INVALID_REQUEST', message: 'request must be plain data' } });
      return;
    }
    decrypt(request, id).then(
      (result) => reply({ result }),
      (e) => reply({ error: e && typeof e.code === 'string' ? { ...e } : { code: 'INTERNAL', message: String(e?.message ?? e) } }),
    );
  });
})();
