// @ts-check
// Reading a File or Blob as a stream of pieces into one buffer used again and again, for the
// extension frame (frame/frame.js: document digests, plis of the page API) and « Ouvrir un
// pli » (pli/pli.js). No garbage buffer per piece, so memory stays that buffer whatever the
// file's size.

/**
 * The Blob's bytes, in order, in pieces of `bytes` (the last one shorter). Each piece is a
 * view of the same memory: the caller must be done with it (copied it into the WASM core,
 * handed it to WebCrypto, which copies its input at the call) before asking for the next.
 * Where the browser's Blob stream takes a buffer of the reader's (a BYOB reader), every read
 * goes into that one buffer; otherwise in `bytes` slices, one read ahead.
 * @param {Blob} blob
 * @param {number} bytes
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* pieces(blob, bytes) {
  /** @type {ReadableStreamBYOBReader | null} */
  let reader = null;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch { /* not a byte stream here */ }
  if (reader) {
    let buffer = new ArrayBuffer(bytes);
    try {
      for (;;) {
        // Filled up before it is handed out: a few large pieces, not many small ones.
        let filled = 0;
        let done = false;
        while (filled < bytes && !done) {
          const r = await reader.read(new Uint8Array(buffer, filled, bytes - filled));
          done = r.done;
          if (r.value) {
            buffer = r.value.buffer; // the same memory, handed back by the stream
            filled += r.value.byteLength;
          }
        }
        if (filled > 0) yield new Uint8Array(buffer, 0, filled);
        if (done) return;
      }
    } finally {
      reader.releaseLock();
    }
  }
  const slice = (/** @type {number} */ at) => {
    const p = blob.slice(at, at + bytes).arrayBuffer();
    p.catch(() => {}); // awaited below
    return p;
  };
  let next = blob.size > 0 ? slice(0) : null;
  for (let at = 0; next;) {
    const buffer = await next;
    if (buffer.byteLength === 0) return; // shorter than it was: the caller says so
    at += buffer.byteLength;
    next = at < blob.size ? slice(at) : null; // read ahead while this slice is used
    yield new Uint8Array(buffer);
  }
}
