// The hashing frame: a hidden extension page that the content script puts in a web page
// (content/content.js, hashFrame) to hash the page's documents for signDocument(s) and
// data-paraphe-file markup. The page's File or Blob reaches it by structured clone (a
// handle on the browser's blob storage or on the file on disk: no copy, no base64, no JSON),
// and it reads it here, in the extension's process, as a stream into one reused buffer
// (pieces), fed to the WASM core's streaming Hasher. Only the digest goes back. Memory:
// that buffer and the core's instance, whatever the file's size; the page's process never
// reads the file.
//
// Who may use it: the frame is web-accessible (any page may load it), so it takes one
// MessagePort, from its parent window, with the token of its URL's fragment. The content
// script made both (the frame's element is in a closed shadow root: the page cannot read its
// URL), so a page cannot use a frame of its own or talk to the content script's. What it
// could learn from one, the digest of a Blob it gave, it can compute itself anyway.
//
// PAdES (signDocument(s) with format 'pades'): the PDF is read into the core's memory once
// (PdfInput), checked (not a PDF, encrypted, certified with no change allowed: before any
// consent) and hashed for the consent window; later, when the background asks through the
// content script, read again and laid out for the chosen certificate (the incremental
// update with its placeholder and the digest of the byte ranges, hashed in place). The core's
// memory then holds one PDF at a time; the file itself never crosses the page's process.
//
// On the port: {id, blob, algorithm} → {id, result: digest}; {id, blob, algorithm, op:
// 'pdf-check'} → {id, result: digest}; {id, blob, op: 'pdf-layout', certificate,
// algorithm, now} → {id, result: <formats::Job::Pades, JSON text>}; failures {id, error:
// {code, message}}. One document at a time in the order asked; {ready: true} once, when the
// port is taken.
import init, { Hasher, PdfInput } from '../pkg/paraphe_wasm.js';

const CHUNK_BYTES = 1 << 20;
let token = location.hash.slice(1);
let ready = null;

window.addEventListener('message', (event) => {
  const port = event.ports?.[0];
  if (event.source !== window.parent || !port || !token || event.data?.paraphe !== 'hash-port' || event.data.token !== token) return;
  token = null; // one port, once
  ready = init({ module_or_path: new URL('../pkg/paraphe_wasm_bg.wasm', import.meta.url) });
  ready.catch(() => {}); // reported with each document
  let queue = Promise.resolve();
  port.onmessage = ({ data }) => {
    const id = data?.id;
    queue = queue.then(() => answer(data)).then(
      (result) => port.postMessage({ id, result }),
      (e) => port.postMessage({ id, error: plainError(e) }),
    );
  };
  port.postMessage({ ready: true });
});

/** What a message asks: a digest, or a PDF checked or laid out (PAdES). */
function answer(data) {
  if (data?.op === 'pdf-check') return withPdf(data.blob, (pdf) => {
    pdf.check();
    return pdf.digest(String(data.algorithm));
  });
  if (data?.op === 'pdf-layout') {
    return withPdf(data.blob, (pdf) => pdf.layout(String(data.certificate), String(data.algorithm), Number(data.now)));
  }
  return digest(data?.blob, data?.algorithm);
}

/** `fn(pdf)` on the whole file read into the core's memory (a PdfInput, freed after). */
async function withPdf(blob, fn) {
  if (!(blob instanceof Blob)) throw { code: 'INVALID_REQUEST', message: 'each file must be a File or Blob' };
  await ready;
  const pdf = new PdfInput(blob.size);
  try {
    try {
      for await (const bytes of pieces(blob)) pdf.push(bytes);
    } catch (e) {
      if (typeof e === 'string') throw e; // the core's (JSON text): the file grew
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    return fn(pdf);
  } finally {
    pdf.free();
  }
}

/** The document's digest, lowercase hex. */
async function digest(blob, algorithm) {
  if (!(blob instanceof Blob)) throw { code: 'INVALID_REQUEST', message: 'each file must be a File or Blob' };
  await ready;
  const hasher = new Hasher(String(algorithm)); // refuses what documents are not hashed with
  try {
    let read = 0;
    try {
      for await (const bytes of pieces(blob)) {
        hasher.update(bytes);
        read += bytes.length;
      }
    } catch (e) {
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    if (read !== blob.size) throw { code: 'INVALID_REQUEST', message: 'the file changed while it was read' };
    return hasher.finish();
  } finally {
    hasher.free();
  }
}

/**
 * The Blob's bytes, in order. Into one buffer, used again and again, where the browser's
 * Blob stream takes a buffer of the reader's (a BYOB reader): no garbage, so memory stays
 * that buffer whatever the size. Otherwise in CHUNK_BYTES slices, one read ahead.
 */
async function* pieces(blob) {
  let reader = null;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch { /* not a byte stream here */ }
  if (reader) {
    let buffer = new ArrayBuffer(CHUNK_BYTES);
    try {
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done) return;
        yield value;
        buffer = value.buffer; // the same memory, handed back by the stream
      }
    } finally {
      reader.releaseLock();
    }
  }
  const slice = (at) => {
    const p = blob.slice(at, at + CHUNK_BYTES).arrayBuffer();
    p.catch(() => {}); // awaited below
    return p;
  };
  let next = blob.size > 0 ? slice(0) : null;
  for (let at = 0; next;) {
    const buffer = await next;
    if (buffer.byteLength === 0) return; // shorter than it was: the caller says so
    at += buffer.byteLength;
    next = at < blob.size ? slice(at) : null; // read ahead while this slice is hashed
    yield new Uint8Array(buffer);
  }
}

/** `{code, message}` from what was thrown here or by the core (JSON text). */
function plainError(e) {
  if (typeof e === 'string') {
    try {
      const parsed = JSON.parse(e);
      if (typeof parsed?.code === 'string') return { code: parsed.code, message: String(parsed.message) };
    } catch { /* not JSON */ }
  }
  if (e && typeof e.code === 'string') return { code: e.code, message: String(e.message) };
  return { code: 'INTERNAL', message: String(e?.message ?? e) };
}
