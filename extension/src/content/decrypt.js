// @ts-check
// Opening a pli for a web page, content side (isolated world): the page API request
// `{type: 'decrypt', file: Blob, name?}` (docs/PAGE-API.md). This script reads the Blob in
// 512 KiB slices and relays them to the background (background/pli.js), where the WASM
// core decrypts them with the key the card unwrapped; it never sees the key. The background
// keeps the plaintext until it checked the end of the pli (padding, or the GCM tag): only
// then does this script read it back (pli-read), in pieces kept as Blob parts (the browser's
// blob storage, not this script's heap), and the page receives one Blob. No plaintext
// reaches this script, which runs in the page's process, before that check. Progress is
// posted to the page as {paraphe: 'progress', id, done, total}.
(() => {
  'use strict';
  const { toPage, pageOrigin, activated, base64, fromBase64, background, checkFiles } = globalThis.parapheContent; // content/shared.js
  const CHUNK_BYTES = 512 * 1024;
  const MAX_ID_LENGTH = 128;

  /** `offre.pdf.p7m` → `offre.pdf`. */
  const plainName = (name) => name.replace(/\.(p7m|p7e|cms|env|enc)$/i, '');

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
    await background({ kind: 'pli-start', jobId, name: displayName, size: source.size, activation });
    const parts = [];
    let opened = null;
    const progress = (done) => window.postMessage(toPage({ paraphe: 'progress', id, done, total: source.size }), pageOrigin());
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
    const reply = (body) => window.postMessage(toPage({ paraphe: 'response', id, ...body }), pageOrigin());
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
