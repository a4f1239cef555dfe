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
// PAdES (signDocument(s) with format 'pades'): each PDF streams by once through the core's
// PdfInput, which hashes all of it (the digest for the consent window, and the start of the
// byte-range digest) and keeps only the parts its reader asks for, read from the Blob where
// they are (the tail, the cross-reference sections, the objects the update rewrites): a
// large PDF is never held whole. That also checks it (not a PDF, encrypted, certified with
// no change allowed: before any consent). The PdfInput stays here under the key the content
// script gave until it asks for the layout for the chosen certificate (the incremental
// update with its placeholder and the digest of the byte ranges), then for its release.
//
// On the port: {id, blob, algorithm} → {id, result: digest}; {id, blob, algorithm, op:
// 'pdf-check', key} → {id, result: digest}; {id, op: 'pdf-layout', key, certificate, now} →
// {id, result: <formats::Job::Pades, JSON text>}; {id, op: 'pdf-release', key} → {id,
// result: ''}; failures {id, error: {code, message}}. One document at a time in the order
// asked; {ready: true} once, when the port is taken.
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

/** PAdES: the PDFs checked, by the content script's key, until released. */
const pdfs = new Map();

/** What a message asks: a digest, or a PDF checked, laid out or released (PAdES). */
async function answer(data) {
  if (data?.op === 'pdf-check') return checkPdf(data.blob, String(data.algorithm), String(data.key));
  if (data?.op === 'pdf-layout') {
    const entry = pdfs.get(String(data.key));
    if (!entry) throw { code: 'INVALID_REQUEST', message: 'no such PDF' };
    for (;;) {
      const text = entry.pdf.layout(String(data.certificate), Number(data.now));
      const need = JSON.parse(text).need;
      if (!need) return text;
      await fill(entry, need);
    }
  }
  if (data?.op === 'pdf-release') {
    pdfs.get(String(data.key))?.pdf.free();
    pdfs.delete(String(data.key));
    return '';
  }
  return digest(data?.blob, data?.algorithm);
}

/** Streams the whole PDF through a PdfInput, then reads what its reader asks for; its digest. */
async function checkPdf(blob, algorithm, key) {
  if (!(blob instanceof Blob)) throw { code: 'INVALID_REQUEST', message: 'each file must be a File or Blob' };
  await ready;
  const pdf = new PdfInput(blob.size, algorithm);
  const entry = { pdf, blob };
  try {
    try {
      for await (const bytes of pieces(blob)) pdf.hash(bytes);
    } catch (e) {
      if (typeof e === 'string') throw e; // the core's (JSON text): the file grew
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    for (let need = pdf.missing(); need; need = pdf.missing()) await fill(entry, JSON.parse(need));
    const hex = pdf.digest();
    pdfs.get(key)?.pdf.free();
    pdfs.set(key, entry);
    return hex;
  } catch (e) {
    pdf.free();
    throw e;
  }
}

/** The bytes the reader asked for, from the Blob. */
async function fill({ pdf, blob }, { offset, length }) {
  let bytes;
  try {
    bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
  } catch (e) {
    throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
  }
  if (bytes.length !== Math.min(length, blob.size - offset)) throw { code: 'INVALID_REQUEST', message: 'the file changed while it was read' };
  pdf.fill(offset, bytes);
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
