// « Ouvrir un pli »: the extension's own page for opening plis from disk, of any size.
//
// The pli is read in 1 MiB slices (File.slice: read from disk on demand) and decrypted here
// by the WASM core as it goes; the plaintext is written at once to a file, never held:
//  - by default to a temporary file in this extension's origin-private file system (OPFS,
//    Chromium and Firefox ≥ 111), offered as a download once complete and checked. The
//    download reads that file from disk.
//  - or, where the File System Access API exists (Chromium) and the person asks for it,
//    straight to the file they choose. Its writable stream writes to a side file that only
//    replaces the target on close(): on a failure it is aborted, so no partial plaintext
//    ever appears under the chosen name.
// A pli that fails (GCM tag, padding, truncation) leaves nothing behind: the temporary file
// is deleted and nothing is downloaded.
//
// Only the header (up to the end of the content-encryption algorithm) goes to the
// background, which finds the certificate, asks for consent and the PIN, has the card unwrap
// the key and returns it to this page (the extension's own origin).
import { api, localize, t } from '../common/api.js';
import { core, ready } from '../background/core.js';

const CHUNK_BYTES = 1 << 20;
const TEMP_PREFIX = 'pli-';
const $ = (id) => document.getElementById(id);

localize();
document.title = t('pliPageTitle');
if (typeof window.showSaveFilePicker === 'function') $('choose-row').hidden = false;
removeTemporaryFiles().catch(() => {});

$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const file = $('file').files[0];
  if (file) openPli(file, $('choose').checked);
});

function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : 'notice';
  s.hidden = false;
}

function sizeText(n) {
  const units = [['Gio', 2 ** 30], ['Mio', 2 ** 20], ['Kio', 2 ** 10]];
  const [unit, d] = units.find(([, x]) => n >= x) ?? ['o', 1];
  return `${(n / d).toLocaleString(api.i18n.getUILanguage(), { maximumFractionDigits: 1 })} ${unit}`;
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function background(message) {
  const reply = await api.runtime.sendMessage(message);
  if (!reply) throw { code: 'INTERNAL', message: 'no answer from the extension' };
  if (reply.error) throw reply.error;
  return reply.result;
}

/** Leftovers of a closed page (temporary plaintext files). */
async function removeTemporaryFiles(keep = null) {
  const root = await navigator.storage.getDirectory();
  for await (const name of root.keys()) {
    if (name.startsWith(TEMP_PREFIX) && name !== keep) await root.removeEntry(name).catch(() => {});
  }
}

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

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function openPli(file, choose) {
  for (const el of document.querySelectorAll('input, button')) el.disabled = true;
  $('again').hidden = true;
  delete document.body.dataset.result;
  delete document.body.dataset.error;
  const outName = file.name.replace(/\.(p7m|p7e|cms|env|enc)$/i, '') || 'pli';
  let sink = null;
  let pli = null;
  let hasher = null;
  const started = performance.now();
  try {
    // Asked first, while the click still counts as a user gesture.
    if (choose) sink = await chosenSink(outName);
    await ready;
    pli = new (core().PliDecryptor)();
    hasher = new (core().Hasher)('sha256');
    status(t('pliPageReading'));
    let offset = 0;
    const read = [];
    while (pli.header() === undefined && offset < file.size) {
      const chunk = new Uint8Array(await file.slice(offset, offset + CHUNK_BYTES).arrayBuffer());
      pli.feed(chunk);
      read.push(chunk);
      offset += chunk.length;
    }
    if (pli.header() === undefined) pli.finish(); // throws: truncated or not a pli
    const prefix = concat(read).subarray(0, pli.consumed());
    read.length = 0;
    status(t('pliPageWaiting'));
    const opened = await background({ kind: 'pli-unwrap', name: file.name, size: file.size, prefix: base64(prefix) });
    pli.set_key_base64(opened.key);
    sink ??= await temporarySink();
    const bar = $('progress');
    bar.hidden = false;
    const write = async (bytes) => {
      if (bytes.length === 0) return;
      hasher.update(bytes);
      await sink.write(bytes);
    };
    await write(pli.feed(new Uint8Array(0)));
    while (offset < file.size) {
      const chunk = new Uint8Array(await file.slice(offset, offset + CHUNK_BYTES).arrayBuffer());
      offset += chunk.length;
      await write(pli.feed(chunk));
      bar.value = offset / file.size;
      status(t('pliPageProgress', Math.floor((100 * offset) / file.size), sizeText(offset)));
    }
    // Only here is the plaintext known to be complete (and authentic, for AES-GCM).
    await write(pli.finish());
    await sink.close();
    const sha256 = hasher.finish();
    bar.value = 1;
    let size = offset;
    if (sink.file) {
      const plain = await sink.file();
      size = plain.size;
      const link = $('save');
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(plain);
      link.download = outName;
      $('again').hidden = false;
      link.click();
      removeTemporaryFiles(sink.name).catch(() => {});
    }
    status(t('pliPageDone', outName, sizeText(size), sha256));
    document.body.dataset.result = JSON.stringify({
      name: outName, size, sha256, seconds: (performance.now() - started) / 1000,
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
      pli?.free();
      hasher?.free();
    } catch { /* freed by finish */ }
    for (const el of document.querySelectorAll('input, button')) el.disabled = false;
  }
}
