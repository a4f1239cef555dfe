// @ts-check
// Opening a pli into a file of the extension's origin-private file system (OPFS), on a
// worker: the extension frame (frame/frame.js, the page API's `decrypt`) and « Ouvrir un
// pli » (pli.js) start one per pli, through pli/to-file.js. The pli is read and decrypted by
// pli/stream.js, as everywhere (the files module parses and checks, WebCrypto runs the AES),
// and each piece of plaintext goes straight to the file through a synchronous access handle
// (only workers have them): a write into the file at its offset, no Blob parts, no writable
// stream's queue, so neither this process nor the browser's keeps the plaintext in memory,
// whatever the pli's size. Each buffer is detached once written (pli/bulk.js, release).
// Optionally the SHA-256 of the plaintext, on a worker of its own (pli/hasher.js).
//
// The file is the owner's to hand out, and only once this worker said `done`: the padding
// or the GCM tag was checked over the whole pli. On any failure the file is deleted here
// before `error` is posted: nothing is left behind.
//
// Protocol, with the owner (to-file.js):
//   ← {start: {blob, name, sha256}}        name: the OPFS file (created here, in the root)
//   → {unwrap: prefix(b64)}                ← {unwrapped: {key, ...}} | {unwrapError: {code, message}}
//   → {progress: bytes read}…
//   → {done: {size, sha256?, opened}} | {error: {code, message}}
import { startFilesModule } from '../common/files-module.js';
import { plainError } from '../common/core-error.js';
import { plaintextHasher } from './hasher.js';
import { release } from './bulk.js';
import { openPli } from './stream.js';

const ready = startFilesModule();

/** @type {((reply: {unwrapped?: any, unwrapError?: any}) => void) | null} */
let onUnwrapped = null;

self.onmessage = (/** @type {MessageEvent<any>} */ { data }) => {
  if (data?.start) {
    run(data.start).then(
      (done) => self.postMessage({ done }),
      (e) => self.postMessage({ error: plainError(e) }),
    );
  } else if (data && ('unwrapped' in data || 'unwrapError' in data)) {
    const resume = onUnwrapped;
    onUnwrapped = null;
    resume?.(data);
  }
};

/**
 * @param {{blob: Blob, name: string, sha256: boolean}} start
 * @returns {Promise<{size: number, sha256: string | null, opened: Record<string, any>}>}
 */
async function run({ blob, name, sha256 }) {
  await ready;
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name, { create: true });
  /** @type {FileSystemSyncAccessHandle | null} */
  let access = null;
  const hasher = sha256 ? plaintextHasher() : null;
  let size = 0;
  try {
    access = await handle.createSyncAccessHandle();
    // The file at its largest size at once (the plaintext is shorter than the pli), cut to
    // the plaintext's at the end: writes that grow a file ask the browser for quota each
    // time, and that halved the speed of opening a pli in Chromium (docs/BENCHMARKS.md).
    access.truncate(0);
    access.truncate(blob.size);
    const file = access;
    const opened = await openPli(blob, {
      unwrap: (prefix) => new Promise((resolve, reject) => {
        onUnwrapped = (reply) => (reply.unwrapError ? reject(reply.unwrapError) : resolve(reply.unwrapped));
        self.postMessage({ unwrap: prefix });
      }),
      write: async (bytes) => {
        for (let at = 0; at < bytes.length;) at += file.write(bytes.subarray(at), { at: size + at });
        size += bytes.length;
        // Written: to the hash worker (which frees it) or freed now.
        if (hasher) await hasher.update(bytes, bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength);
        else release(bytes);
      },
      progress: (done) => self.postMessage({ progress: done }),
    });
    // openPli resolved: the padding or the tag is checked, every byte is in the file. No
    // flush: it would wait for the disk (fsync), and a temporary file need not outlive a
    // crash; what was written is visible to readers once the handle is closed.
    access.truncate(size);
    access.close();
    access = null;
    const digest = hasher ? await hasher.finish() : null;
    return { size, sha256: digest, opened };
  } catch (e) {
    try {
      access?.close();
    } catch { /* closed */ }
    await root.removeEntry(name).catch(() => {});
    throw e;
  } finally {
    hasher?.close();
  }
}
