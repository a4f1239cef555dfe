// @ts-check
// « Ouvrir un pli »: the extension's own page for opening plis from disk, of any size.
//
// The pli is read from disk as a stream into one reused buffer and decrypted as it goes, by
// pli/stream.js, the same code as the page API's extension frame: the WASM files module
// (files-wasm/, pkg/paraphe_files: the core's PliDecryptor) parses it and keeps every check
// (GCM GHASH and tag, the CBC padding), WebCrypto runs the AES of the bulk (native AES: the
// core's software AES ran at 20–40 MB/s in WASM; see PliDecryptor.set_key_external_base64).
// The plaintext is written at once to a file, never held:
//  - by default, on a worker (pli/to-file.js, file-worker.js) that decrypts, computes the
//    SHA-256 shown at the end and writes each piece into a temporary file of this
//    extension's origin-private file system (OPFS, Chromium and Firefox ≥ 111) through a
//    synchronous access handle; offered as a download once complete and checked. The
//    download reads that file from disk.
//  - or, where the File System Access API exists (Chromium) and the person asks for it,
//    straight to the file they choose, decrypted on this page (the SHA-256 in
//    hash-worker.js), reading, decrypting, hashing and writing overlapping one piece per
//    stage. Its writable stream writes to a side file that only replaces the target on
//    close(): on a failure it is aborted, so no partial plaintext ever appears under the
//    chosen name.
// A pli that fails (GCM tag, padding, truncation) leaves nothing behind: the temporary file
// is deleted and nothing is downloaded.
//
// Only the header (up to the end of the content-encryption algorithm) goes to the
// background, which finds the certificate, asks for consent and the PIN, has the card unwrap
// the key and returns it to this page (the extension's own origin).
import { $, api, localize, t } from '../common/api.js';
import { startFilesModule } from '../common/files-module.js';
import { plaintextHasher } from './hasher.js';
import { openPli } from './stream.js';
import { canOpenToFile, openPliToFile } from './to-file.js';

/** The files module (files-wasm/): PliDecryptor for pli/stream.js, Hasher where the hash worker cannot start. */
const ready = startFilesModule();
const TEMP_PREFIX = 'pli-';
/** How often the progress shown changes, at most. */
const PROGRESS_EVERY_MS = 200;

localize();
document.title = t('pliPageTitle');
if (typeof window.showSaveFilePicker === 'function') $('choose-row').hidden = false;
removeTemporaryFiles().catch(() => {});

$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const file = $('file').files[0];
  if (file) openFile(file, $('choose').checked);
});

/** @param {string} text @param {boolean} [isError] */
function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : 'notice';
  s.hidden = false;
}

/** @param {number} n bytes */
function sizeText(n) {
  const units = /** @type {[string, number][]} */ ([['Gio', 2 ** 30], ['Mio', 2 ** 20], ['Kio', 2 ** 10]]);
  const [unit, d] = units.find(([, x]) => n >= x) ?? ['o', 1];
  return `${(n / d).toLocaleString(api.i18n.getUILanguage(), { maximumFractionDigits: 1 })} ${unit}`;
}

/**
 * One message to the background; its `result`, or throws its error.
 * @param {{kind: string} & Record<string, unknown>} message
 * @returns {Promise<any>} the `result` of that kind (background/pli.js)
 */
async function background(message) {
  const reply = await api.runtime.sendMessage(message);
  if (!reply) throw { code: 'INTERNAL', message: 'no answer from the extension' };
  if (reply.error) throw reply.error;
  return reply.result;
}

/**
 * Leftovers of a closed page (temporary plaintext files).
 * @param {string | null} [keep] the one to leave
 */
async function removeTemporaryFiles(keep = null) {
  const root = await navigator.storage.getDirectory();
  for await (const name of root.keys()) {
    if (name.startsWith(TEMP_PREFIX) && name !== keep) await root.removeEntry(name).catch(() => {});
  }
}

/**
 * Where the plaintext goes: `name` and `file` for a temporary file (OPFS), null when the
 * person chose the file.
 * @typedef {{
 *   name: string | null, write: (bytes: Uint8Array<ArrayBuffer>) => Promise<void>, close: () => Promise<void>,
 *   abort: () => Promise<void>, file: (() => Promise<File>) | null,
 * }} Sink
 */

/** @returns {Promise<Sink>} */
async function temporarySink() {
  const root = await navigator.storage.getDirectory();
  const name = `${TEMP_PREFIX}${crypto.randomUUID()}.part`;
  const handle = await root.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  return {
    name,
    write: (bytes) => writable.write(bytes),
    close: () => writable.close(),
    abort: async () => {
      await writable.abort().catch(() => {});
      await root.removeEntry(name).catch(() => {});
    },
    file: () => handle.getFile(),
  };
}

/** @param {string} suggestedName @returns {Promise<Sink>} */
async function chosenSink(suggestedName) {
  const handle = await window.showSaveFilePicker({ suggestedName });
  const writable = await handle.createWritable();
  return {
    name: null,
    write: (bytes) => writable.write(bytes),
    close: () => writable.close(),
    abort: () => writable.abort().catch(() => {}),
    file: null,
  };
}

/**
 * The checked plaintext, offered as a download (read from disk by the browser).
 * @param {File} plain @param {string} outName
 */
function offerDownload(plain, outName) {
  const link = $('save');
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(plain);
  link.download = outName;
  $('again').hidden = false;
  link.click();
}

/** @param {File} file @param {boolean} choose the person picks where the plaintext goes */
async function openFile(file, choose) {
  for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input, button'))) el.disabled = true;
  $('again').hidden = true;
  delete document.body.dataset.result;
  delete document.body.dataset.error;
  const outName = file.name.replace(/\.(p7m|p7e|cms|env|enc)$/i, '') || 'pli';
  /** @type {Sink | null} */
  let sink = null;
  /** @type {ReturnType<typeof plaintextHasher> | null} */
  let hasher = null;
  const started = performance.now();
  try {
    // Asked first, while the click still counts as a user gesture.
    if (choose) sink = await chosenSink(outName);
    await ready;
    status(t('pliPageReading'));
    const bar = $('progress');
    let keyed = 0;
    const unwrap = async (/** @type {string} */ prefix) => {
      status(t('pliPageWaiting'));
      const r = await background({ kind: 'pli-unwrap', name: file.name, size: file.size, prefix });
      keyed = performance.now();
      bar.hidden = false;
      return r;
    };
    let shownAt = 0;
    const progress = (/** @type {number} */ offset) => {
      if (!keyed) return;
      // A few times a second: each change of the page is laid out and painted again, and a
      // pli sends one every piece read (about 200 per 100 MiB), on the threads the
      // decryption needs.
      const now = performance.now();
      if (now - shownAt < PROGRESS_EVERY_MS && offset < file.size) return;
      shownAt = now;
      bar.value = offset / file.size;
      status(t('pliPageProgress', Math.floor((100 * offset) / file.size), sizeText(offset)));
    };
    let opened;
    let sha256;
    let size;
    if (!sink && canOpenToFile()) {
      // To a temporary OPFS file, on a worker that also hashes (pli/to-file.js): the
      // plaintext is never in memory. The File exists only once the end is checked.
      const name = `${TEMP_PREFIX}${crypto.randomUUID()}.part`;
      const r = await openPliToFile(file, name, { unwrap, progress, sha256: true });
      ({ opened, size } = r);
      sha256 = /** @type {string} */ (r.sha256);
      bar.value = 1;
      offerDownload(r.file, outName);
      removeTemporaryFiles(name).catch(() => {});
    } else {
      hasher = plaintextHasher();
      let written = 0;
      let writing = Promise.resolve();
      // pli/stream.js reads, parses and decrypts; the plaintext is hashed (in the worker) and
      // written here, one write in flight while the next piece is decrypted.
      opened = await openPli(file, {
        unwrap: async (prefix) => {
          const r = await unwrap(prefix);
          sink ??= await temporarySink();
          return r;
        },
        write: async (bytes) => {
          written += bytes.length;
          await hasher.update(bytes);
          await writing;
          writing = sink.write(bytes);
          writing.catch(() => {}); // awaited at the next write or at the end
        },
        progress,
      });
      // openPli resolved: the padding or the GCM tag is checked, all plaintext was written.
      await writing;
      await sink.close();
      sha256 = await hasher.finish();
      bar.value = 1;
      size = written;
      if (sink.file) {
        const plain = await sink.file();
        size = plain.size;
        offerDownload(plain, outName);
        removeTemporaryFiles(sink.name).catch(() => {});
      }
    }
    status(t('pliPageDone', outName, sizeText(size), sha256));
    document.body.dataset.result = JSON.stringify({
      name: outName, size, sha256, seconds: (performance.now() - started) / 1000,
      // From the key to the checked plaintext on disk (`seconds` adds reading the header,
      // the consent window, the PIN and the card).
      decryptSeconds: (performance.now() - keyed) / 1000,
      certificate: opened.certificate.fingerprint, contentEncryption: opened.contentEncryption,
    });
  } catch (e) {
    await sink?.abort();
    const code = e?.code ?? 'INTERNAL';
    const message = typeof e === 'string' ? e : e?.message ?? String(e);
    let parsed = { code, message };
    try {
      if (typeof e === 'string') parsed = JSON.parse(e); // thrown by the WASM core
    } catch { /* not JSON */ }
    $('progress').hidden = true;
    const text = api.i18n.getMessage(`error_${parsed.code}`) || parsed.message;
    status(t('pliPageFailed', text), true);
    document.body.dataset.error = parsed.code;
  } finally {
    try {
      hasher?.close();
    } catch { /* freed by finish */ }
    for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input, button'))) el.disabled = false;
  }
}
