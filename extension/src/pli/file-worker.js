// @ts-check
// Opening a pli into a file of the extension's origin-private file system (OPFS), on a
// worker: the extension frame (frame/frame.js, the page API's `decrypt`) and « Ouvrir un
// pli » (pli.js) start one per pli, through pli/to-file.js. The pli is read and decrypted by
// pli/stream.js, as everywhere (the files module parses and checks, WebCrypto runs the AES),
// and each piece of plaintext is handed over to a writer on another thread (pli/writer.js,
// writer-worker.js, started by the owner and reached through it: pli/link.js), which writes
// it straight into the file through a synchronous access handle, then frees it or hands it
// to the SHA-256 worker: no Blob parts, no writable stream's queue, so neither this process
// nor the browser's keeps the plaintext in memory, whatever the pli's size; and the writes
// (the slowest step: the kernel gives the new file fresh pages) overlap the reading and
// decrypting of the next pieces.
//
// The file is the owner's to hand out, and only once this worker said `done`: the padding
// or the GCM tag was checked over the whole pli. On any failure the file is deleted here
// before `error` is posted: nothing is left behind.
//
// Protocol, with the owner (to-file.js):
//   ← {start: {blob, name, sha256}}        name: the OPFS file (created by the writer, in
//                                          the root)
//   ↔ {link: 'writer', message}            pli/writer.js's messages with writer-worker.js
//   → {unwrap: prefix(b64)}                ← {unwrapped: {key, ...}} | {unwrapError: {code, message}}
//   → {progress: bytes read}…
//   → {done: {size, sha256?, opened}} | {error: {code, message}}
import { startFilesModule } from '../common/files-module.js';
import { plainError } from '../common/core-error.js';
import { fileWriter } from './writer.js';
import { workerLink } from './link.js';
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
  const writer = fileWriter(workerLink('writer'), name, { sha256, reserve: blob.size });
  try {
    const opened = await openPli(blob, {
      unwrap: (prefix) => new Promise((resolve, reject) => {
        onUnwrapped = (reply) => (reply.unwrapError ? reject(reply.unwrapError) : resolve(reply.unwrapped));
        self.postMessage({ unwrap: prefix });
      }),
      write: (bytes) => writer.write(bytes),
      progress: (done) => self.postMessage({ progress: done }),
    });
    // openPli resolved: the padding or the tag is checked, every piece went to the writer.
    const { size, sha256: digest } = await writer.finish();
    return { size, sha256: digest, opened };
  } catch (e) {
    await writer.abort();
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(name).catch(() => {});
    throw e;
  }
}
