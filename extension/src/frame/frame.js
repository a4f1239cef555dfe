// @ts-check
// The extension frame: a hidden extension page that the content script puts in a web page
// (content/shared.js, extensionFrame) to do the work on a page's files that must not cross
// extension messaging byte by byte (Chromium's is JSON: base64). The page's File or Blob
// reaches it by structured clone (a handle on the browser's blob storage or on the file on
// disk: no copy, no base64, no JSON), and it reads it here, in the extension's process, as a
// stream into one reused buffer (common/pieces.js):
//  - document digests (signDocument(s), data-paraphe-file): the files module's streaming
//    Hasher; only the digest goes back;
//  - plis (the page API's `decrypt`): pli/stream.js, the same as « Ouvrir un pli »; the
//    header goes to the background, which asks for consent and has the card unwrap the key
//    (background/pli.js, job of the content script's `pli-start`); the plaintext goes on a
//    worker into a file of the extension's OPFS (pli/to-file.js; where Chromium denies this
//    frame storage, through the extension's storage document) and back as that File, or,
//    where neither works, is kept as Blob parts (the browser's blob storage) and goes back
//    as one Blob; either only once the core checked the end of the pli. Nothing of it
//    before.
// Memory: the reading buffer, a piece or two in flight and the files module's instance (the
// WASM of files-wasm/, pkg/paraphe_files: hashing, plis, PDFs; not the background's core), whatever the
// file's size; the page's process never reads the file.
//
// Who may use it: the frame is web-accessible (any page may load it), so it takes one
// MessagePort, from its parent window, with the token of its URL's fragment. The content
// script made both (the frame's element is in a closed shadow root: the page cannot read its
// URL), so a page cannot use a frame of its own or talk to the content script's. What it
// could learn from a digest, it can compute itself; a pli's key is asked for with the job id
// the content script gave the background and this frame (never the page).
//
// On the port, one job at a time in the order asked; {ready: true} once, when the port is taken:
//   {id, kind: 'hash', blob, algorithm}  → {id, result: hex digest}
//   {id, kind: 'pdf-check', blob, algorithm, key}  → {id, result: hex digest} (PAdES, below)
//   {id, kind: 'pdf-layout', key, certificate, now, visible, timestamp, reply} → {id, result: ''}: the layout
//     (formats::Job::Pades, JSON text) goes to the background itself, not through the content
//     script: {kind: 'pdf-frame-layout', reply, layout} (background/sign.js)
//   {id, kind: 'pdf-release', key}                 → {id, result: ''}
//   {id, kind: 'decrypt', blob, jobId}   → {id, progress: bytes read}…, {id, result: {plaintext: File | Blob, size, opened}}
//   either                               → {id, error: {code, message}}
import { api } from '../common/api.js';
import { plainError } from '../common/core-error.js';
import { startFilesModule } from '../common/files-module.js';
import { checkPdf as checkPdfBlob, digest, layoutPdf as layoutCheckedPdf } from '../common/files.js';
import { release } from '../pli/bulk.js';
import { openPli } from '../pli/stream.js';
import { canOpenToFile, openPliToFile } from '../pli/to-file.js';

/** Progress to the background's consent window: every this many bytes of the pli. */
const WINDOW_PROGRESS_BYTES = 4 << 20;
let token = location.hash.slice(1);
/** @type {Promise<unknown> | null} */
let ready = null;

window.addEventListener('message', (event) => {
  const port = event.ports?.[0];
  if (event.source !== window.parent || !port || !token || event.data?.paraphe !== 'frame-port' || event.data.token !== token) return;
  token = null; // one port, once
  ready = startFilesModule(); // not before: a page may load this frame and never use it
  ready.catch(() => {}); // reported with each job
  let queue = Promise.resolve();
  port.onmessage = (/** @type {MessageEvent<Job>} */ { data }) => {
    const id = data?.id;
    queue = queue.then(() => job(data, (progress) => port.postMessage({ id, progress }))).then(
      (result) => port.postMessage({ id, result }),
      (e) => port.postMessage({ id, error: plainError(e) }),
    );
  };
  port.postMessage({ ready: true });
});

/**
 * A job of the content script (the list above); each field its word, checked here.
 * @typedef {{kind?: unknown, blob?: unknown, algorithm?: unknown, key?: unknown, certificate?: unknown,
 *   now?: unknown, visible?: unknown, timestamp?: unknown, jobId?: unknown, id?: unknown, reply?: unknown} | null | undefined} Job
 */

/** @param {Job} data @param {(done: number) => void} progress */
async function job(data, progress) {
  await ready;
  // PAdES's later steps work on a PDF checked before (no file with them).
  if (data?.kind === 'pdf-layout') {
    return layoutPdf(String(data.key), String(data.certificate), Number(data.now), String(data.reply), { visible: data.visible === true, timestamp: data.timestamp === true });
  }
  if (data?.kind === 'pdf-release') {
    pdfs.get(String(data.key))?.pdf.free();
    pdfs.delete(String(data.key));
    return '';
  }
  if (!(data?.blob instanceof Blob)) throw { code: 'INVALID_REQUEST', message: 'each file must be a File or Blob' };
  if (data.kind === 'hash') return digest(data.blob, data.algorithm);
  if (data.kind === 'pdf-check') return checkPdf(data.blob, String(data.algorithm), String(data.key));
  if (data.kind === 'decrypt') return decrypt(data.blob, String(data.jobId), progress);
  throw { code: 'INTERNAL', message: 'unknown job' };
}

// ---- PAdES (signDocument(s) with format 'pades') ------------------------------------------
// Each PDF is checked as it streams by (common/files.js, checkPdf) and stays here under the
// content script's key, until it asks for the layout for the chosen certificate, then for
// its release.

/** The PDFs checked, by the content script's key, until released. @type {Map<string, import('../common/files.js').CheckedPdf>} */
const pdfs = new Map();

/** The PDF's digest; the PDF kept under `key`. @param {Blob} blob @param {string} algorithm @param {string} key */
async function checkPdf(blob, algorithm, key) {
  const { hex, entry } = await checkPdfBlob(blob, algorithm);
  pdfs.get(key)?.pdf.free();
  pdfs.set(key, entry);
  return hex;
}

/**
 * The PDF `key` laid out for `certificate`, sent to the background under `reply` (the id of
 * its question). The content script runs in the page's process: what the card signs never
 * passes through it. `visible`: the signature drawn on the last page; `timestamp`: room for a
 * signature time-stamp (B-T).
 * @param {string} key @param {string} certificate @param {number} now @param {string} reply
 * @param {{visible: boolean, timestamp: boolean}} options
 */
async function layoutPdf(key, certificate, now, reply, options) {
  const entry = pdfs.get(key);
  if (!entry) throw { code: 'INVALID_REQUEST', message: 'no such PDF' };
  const layout = await layoutCheckedPdf(entry, certificate, now, options);
  await background({ kind: 'pdf-frame-layout', reply, layout });
  return '';
}

/** One message to the background; resolves with its `result`. @param {object} message */
async function background(message) {
  const reply = await api.runtime.sendMessage(message);
  if (!reply) throw { code: 'EXTENSION_UNAVAILABLE', message: 'no answer from the extension' };
  if (reply.error) throw { code: String(reply.error.code), message: String(reply.error.message) };
  return reply.result;
}

/** OPFS files of the page API's plaintexts: `page-pli-<time>-<tab>-<uuid>` (background/plaintext-files.js). */
const PAGE_PLI_PREFIX = 'page-pli-';
/** The storage document (background/plaintext-files.js, STORAGE_DOCUMENT). */
const STORAGE_DOCUMENT = 'pli/storage.html';
/**
 * How long a plaintext File handed to a page stays readable at least: the file behind it
 * is deleted by the first `decrypt` after that, if its tab did not close before
 * (docs/PAGE-API.md).
 */
const PAGE_PLI_KEEP_MS = 60 * 60 * 1000;

/**
 * Plaintext files of earlier `decrypt`s older than PAGE_PLI_KEEP_MS, in the storage of
 * `realm` (this frame's, or the storage document's).
 * @param {typeof globalThis} realm
 */
async function removeOldPlaintexts(realm) {
  const root = await realm.navigator.storage.getDirectory();
  const now = Date.now();
  for await (const name of root.keys()) {
    if (!name.startsWith(PAGE_PLI_PREFIX)) continue;
    const made = Number(name.slice(PAGE_PLI_PREFIX.length).split('-')[0]);
    if (!(now - made < PAGE_PLI_KEEP_MS)) await root.removeEntry(name).catch(() => {});
  }
}

/**
 * Where the plaintext of job `jobId` goes: a file in the storage of `realm`, named by the
 * background after this tab (deleted when the tab closes: background/plaintext-files.js).
 * `realm` is this frame, or, where the browser denies the frame storage (Chromium with
 * third-party cookies blocked: SecurityError), the extension's storage document, which the
 * background makes and this frame reaches as a window of its own extension (same origin,
 * same process): its OPFS is the extension's own, and the workers started from it use it.
 * Null where neither works (then Blob parts).
 * @param {string} jobId
 * @returns {Promise<{realm: typeof globalThis, name: string} | null>}
 */
async function storage(jobId) {
  /** @type {typeof globalThis | undefined} */
  let realm = globalThis;
  if (!(await removeOldPlaintexts(realm).then(() => true, () => false))) {
    if (typeof api.extension?.getViews !== 'function') return null;
    try {
      const { name } = await background({ kind: 'pli-frame-file', jobId, lend: true });
      const url = api.runtime.getURL(STORAGE_DOCUMENT);
      realm = /** @type {(typeof globalThis)[]} */ (/** @type {unknown} */ (api.extension.getViews())).find((v) => v.location.href === url);
      if (!realm || typeof name !== 'string' || !name.startsWith(PAGE_PLI_PREFIX)) return null;
      await removeOldPlaintexts(realm);
      return { realm, name };
    } catch {
      return null;
    }
  }
  const { name } = await background({ kind: 'pli-frame-file', jobId });
  if (typeof name !== 'string' || !name.startsWith(PAGE_PLI_PREFIX)) throw { code: 'INTERNAL', message: 'no plaintext file name' };
  return { realm, name };
}

/**
 * Opens the pli `blob` of the background's job `jobId` (background/pli.js, fromFrame).
 * Where the frame has OPFS and workers, its own or the storage document's (`storage`,
 * pli/to-file.js): decrypted on a worker into a file of the extension's origin-private file
 * system, handed back as that File (on disk: the plaintext is in no process's memory); else
 * kept as Blob parts (the browser's blob
 * storage) and handed back as one Blob. Either only once the core checked the end of the pli.
 * @param {Blob} blob
 * @param {string} jobId
 * @param {(done: number) => void} progress
 */
async function decrypt(blob, jobId, progress) {
  let shown = 0;
  const unwrap = (/** @type {string} */ prefix) => background({ kind: 'pli-frame-open', jobId, prefix });
  const progressed = (/** @type {number} */ done) => {
    progress(done);
    if (done - shown >= WINDOW_PROGRESS_BYTES) {
      shown = done;
      background({ kind: 'pli-frame-progress', jobId, done }).catch(() => {});
    }
  };
  /** @type {Blob[]} */
  const parts = []; // checked plaintext only leaves once openPli resolved
  try {
    let plaintext;
    let opened;
    const lender = canOpenToFile() ? await storage(jobId) : null;
    if (lender) {
      const { realm, name } = lender;
      const r = await openPliToFile(blob, name, { unwrap, progress: progressed, realm });
      opened = r.opened;
      // A File over the file on disk (no copy), typed as the Blob-parts one.
      plaintext = new File([r.file], 'plaintext', { type: 'application/octet-stream', lastModified: r.file.lastModified });
    } else {
      opened = await openPli(blob, {
        unwrap,
        write: (bytes) => {
          // To the blob storage (a copy), and this piece's memory freed at once.
          parts.push(new Blob([bytes]));
          release(bytes);
        },
        progress: progressed,
      });
      plaintext = new Blob(parts, { type: 'application/octet-stream' });
    }
    // Awaited: the content script removes this frame once it has the answer, and a message
    // still in flight from a removed frame can be lost (CI saw it in Chromium: the consent
    // window never learnt that the pli opened, and stayed open).
    await background({ kind: 'pli-frame-end', jobId }).catch(() => {});
    return { plaintext, size: plaintext.size, opened };
  } catch (e) {
    parts.length = 0;
    const error = plainError(e);
    await background({ kind: 'pli-frame-end', jobId, error }).catch(() => {});
    throw error;
  }
}
