// @ts-check
// Opening a pli into a file of the extension's origin-private file system (OPFS), owner's
// side: starts pli/file-worker.js and the writer it hands the plaintext to
// (pli/writer-worker.js, and the SHA-256 worker behind it, pli/hash-worker.js, if asked),
// passes their messages to each other (pli/link.js: every worker is started here, by the
// document, and talks to the others through it), relays the file worker's `unwrap` (the
// owner's background messaging: workers have no extension APIs) and hands back the plaintext
// as a File on disk once the worker checked the end of the pli. Used by the extension frame
// (the page API's `decrypt`, frame/frame.js) and « Ouvrir un pli » (pli.js). Memory: the
// worker's reading buffer and a piece or two in flight; the plaintext is never in memory,
// here or in the browser's process (a File of the OPFS is a file on disk).
import { plainError } from '../common/core-error.js';
import { join } from './link.js';

/**
 * Whether this context can open plis to a file: a module worker and OPFS (Chromium ≥ 102,
 * Firefox ≥ 111; not Firefox's private windows).
 */
export function canOpenToFile() {
  return typeof Worker === 'function' && typeof navigator.storage?.getDirectory === 'function';
}

/**
 * Opens `blob` into the OPFS file `name` (created, or emptied). Resolves once the padding or
 * the GCM tag is checked, with the File and what `unwrap` resolved with (the key left out);
 * rejects with `{code, message}`, the file deleted. `realm`: the extension document whose
 * storage and workers are used, this one unless said (the extension frame, where it has no
 * storage of its own: the storage document, frame/frame.js); its workers are then ended if
 * this document goes first.
 * @param {Blob} blob
 * @param {string} name
 * @param {{
 *   unwrap: (prefix: string) => Promise<{key: string} & Record<string, any>>,
 *   progress?: (done: number) => void,
 *   sha256?: boolean,
 *   realm?: typeof globalThis,
 * }} options
 * @returns {Promise<{file: File, size: number, sha256: string | null, opened: Record<string, any>}>}
 */
export async function openPliToFile(blob, name, { unwrap, progress = () => {}, sha256 = false, realm = globalThis }) {
  const start = (/** @type {string} */ script) => new realm.Worker(new URL(script, import.meta.url), { type: 'module' });
  const worker = start('file-worker.js');
  const writer = start('writer-worker.js');
  const hasher = sha256 ? start('hash-worker.js') : null;
  join(worker, 'writer', writer, 'owner'); // pli/writer.js ↔ writer-worker.js
  if (hasher) join(writer, 'hasher', hasher, 'owner'); // pli/hasher.js ↔ hash-worker.js
  /** Ends the opening with `error` (set once the promise below exists). @type {(error: unknown) => void} */
  let fail = () => {};
  // Another document's workers outlive this one: a frame removed or a tab closed mid-way
  // must not leave them writing (nor holding the file, which could then not be deleted).
  // And a page kept in the back-forward cache that comes back finds the opening failed,
  // not waiting for ever for workers that are gone.
  const gone = () => {
    terminate();
    fail({ code: 'INTERNAL', message: 'the page went away while the pli was being opened' });
  };
  if (realm !== globalThis) addEventListener('pagehide', gone);
  try {
    /** @type {{size: number, sha256: string | null, opened: Record<string, any>}} */
    const done = await new Promise((resolve, reject) => {
      fail = reject;
      worker.onmessage = (/** @type {MessageEvent<any>} */ { data }) => {
        if (data?.unwrap !== undefined) {
          unwrap(data.unwrap).then(
            (/** @type {Record<string, any>} */ unwrapped) => worker.postMessage({ unwrapped }),
            (/** @type {unknown} */ e) => worker.postMessage({ unwrapError: plainError(e) }),
          );
        } else if (data?.progress !== undefined) {
          progress(data.progress);
        } else if (data?.done) {
          resolve(data.done);
        } else if (data?.error) {
          reject(data.error);
        }
      };
      // A helper that fails leaves the file worker waiting for it: the whole opening fails.
      for (const [w, what] of /** @type {[Worker | null, string][]} */ ([[worker, 'pli worker'], [writer, 'plaintext writer'], [hasher, 'SHA-256 worker']])) {
        if (!w) continue;
        w.onerror = (e) => {
          e.preventDefault?.();
          reject({ code: 'INTERNAL', message: `${what}: ${e.message ?? 'failed'}` });
        };
      }
      worker.postMessage({ start: { blob, name, sha256 } });
    });
    const root = await realm.navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(name)).getFile();
    if (file.size !== done.size) throw { code: 'INTERNAL', message: 'the plaintext file is not what was written' };
    return { file, ...done };
  } catch (e) {
    // The worker deletes its file before it reports a failure; not when it could not start
    // or died (its access handle goes with it).
    terminate();
    const root = await realm.navigator.storage.getDirectory().catch(() => /** @type {FileSystemDirectoryHandle | null} */ (null));
    await root?.removeEntry(name).catch(() => {});
    throw e;
  } finally {
    terminate();
    removeEventListener('pagehide', gone);
  }

  function terminate() {
    worker.terminate();
    writer.terminate();
    hasher?.terminate();
  }
}
