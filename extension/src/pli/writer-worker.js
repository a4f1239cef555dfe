// @ts-check
// Writes a pli's plaintext into a file of the extension's origin-private file system (OPFS),
// on a thread of its own: pli/file-worker.js decrypts, this worker writes (a write into a
// new file is the slowest step of opening a pli: the kernel gives the file fresh pages), so
// the two overlap. Each piece is written at its offset through a synchronous access handle
// (only workers have them), then handed to the SHA-256 worker (pli/hasher.js) or freed.
//
// Started by the document that opens the pli (pli/to-file.js), through which it talks with
// pli/writer.js (in pli/file-worker.js; link 'owner') and, if the SHA-256 is asked for, with
// the SHA-256 worker (hash-worker.js; link 'hasher'): pli/link.js. With pli/writer.js:
//   ← {open: {name, sha256, reserve}}  creates (or empties) the file `name` in the root
//   ← {bytes}                  the next piece, handed over (transferred)  → {ack}
//   ← {finish: true}           → {finished: {size, sha256}}: the file cut to size and closed
//   ← {abort: true}            → {aborted}: the handle closed (the owner deletes the file)
//   → {error: {code, message}} for the first failure; every message after it is ignored
//                              but abort
import { plaintextHasher } from './hasher.js';
import { release } from './bulk.js';
import { workerLink } from './link.js';

/** @type {FileSystemSyncAccessHandle | null} */
let access = null;
/** @type {ReturnType<typeof plaintextHasher> | null} */
let hasher = null;
let size = 0;
/** Whether the file was made longer than the plaintext at the start (cut at the end). */
let reserved = false;
let failed = false;
/** Every message waits for the one before it (the first one opens the file). */
let queue = Promise.resolve();
/** The file's opening, which an abort waits for (so that no handle is made after it). */
let opening = Promise.resolve();
/** To pli/writer.js. */
const owner = workerLink('owner');
owner.onmessage = onOwnerMessage;

/** @param {{data: any}} event */
function onOwnerMessage({ data }) {
  if (data?.abort) {
    // Not queued behind the writes: they are skipped from now on.
    failed = true;
    opening.catch(() => {}).then(() => {
      close();
      owner.postMessage({ aborted: true });
    });
    return;
  }
  queue = queue.then(async () => {
    if (failed) return;
    try {
      if (data?.open) await (opening = open(data.open));
      else if (data?.bytes) await write(data.bytes);
      else if (data?.finish) owner.postMessage({ finished: await finish() });
    } catch (e) {
      failed = true;
      close();
      owner.postMessage({ error: { code: typeof e?.code === 'string' ? e.code : 'INTERNAL', message: `the plaintext could not be written: ${e?.message ?? e}` } });
    }
  });
}

/** @param {{name: string, sha256: boolean, reserve: number}} open */
async function open({ name, sha256, reserve }) {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name, { create: true });
  access = await handle.createSyncAccessHandle();
  access.truncate(0);
  // Chromium: the file at its largest size at once (`reserve`: the pli's, longer than its
  // plaintext), cut to the plaintext's at the end: writes that grow a file ask the browser
  // for quota each time, and that halved the speed of opening a pli (measured with 8dd1fb5).
  // Not in Firefox: there a truncate that grows the file now and then never returns, and
  // the worker with it (its sync access handle's calls block the thread, abort included):
  // decrypt.test.js hung in 7 runs out of 40 here with it, in none of 16 without.
  reserved = !navigator.userAgent.includes('Firefox/');
  if (reserved) access.truncate(reserve);
  // The document started the SHA-256 worker with this one when it asked for the SHA-256.
  hasher = sha256 ? plaintextHasher(workerLink('hasher')) : null;
  size = 0;
}

/** @param {Uint8Array} bytes */
async function write(bytes) {
  const file = /** @type {FileSystemSyncAccessHandle} */ (access);
  for (let at = 0; at < bytes.length;) at += file.write(bytes.subarray(at), { at: size + at });
  size += bytes.length;
  // Written: to the hash worker (which frees it) or freed now.
  if (hasher) await hasher.update(bytes, true);
  else release(bytes);
  owner.postMessage({ ack: true });
}

async function finish() {
  const file = /** @type {FileSystemSyncAccessHandle} */ (access);
  // No flush: it would wait for the disk (fsync), and a temporary file need not outlive a
  // crash; what was written is visible to readers once the handle is closed.
  if (reserved) file.truncate(size);
  file.close();
  access = null;
  const sha256 = hasher ? await hasher.finish() : null;
  hasher?.close();
  hasher = null;
  return { size, sha256 };
}

function close() {
  try {
    access?.close();
  } catch { /* closed */ }
  access = null;
  hasher?.close();
  hasher = null;
}
