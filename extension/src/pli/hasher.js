// @ts-check
// The SHA-256 of a pli's plaintext shown to the person by « Ouvrir un pli », computed in
// hash-worker.js so that it runs beside the decryption: by pli/writer-worker.js (the pieces
// handed over once written, no copy) and by pli.js for a file the person picked (copies: the
// same bytes are being written by the page).
import { Hasher } from '../pkg/paraphe_files.js';
import { release } from './bulk.js';
import { workerEnd } from './link.js';

/**
 * Pieces handed to the hash worker and not yet hashed, at most: a few, so that the
 * decryption does not wait for each hash; few enough to bound memory (PIECE_BYTES each,
 * pli/stream.js: 4 MiB in all).
 */
const MAX_HASH_IN_FLIGHT = 8;

/**
 * The SHA-256 shown to the person, computed in a worker (hash-worker.js), so that it runs
 * on another core than the decryption; at most MAX_HASH_IN_FLIGHT pieces are waiting there.
 * `port`: to a hash worker that the document started (a worker never starts one: see
 * pli/link.js); without it, a document starts its own, or, where the worker cannot start,
 * hashes on its own Hasher.
 * @param {import('./link.js').Link | null} [port]
 * @returns {{update: (bytes: Uint8Array, transfer?: boolean) => Promise<void>, finish: () => Promise<string>, close: () => void}}
 */
export function plaintextHasher(port = null) {
  /** @type {Worker | null} */
  let worker = null;
  if (!port) {
    try {
      worker = new Worker(new URL('hash-worker.js', import.meta.url), { type: 'module' });
      port = workerEnd(worker, 'owner');
    } catch {
      worker = null;
    }
  }
  if (!port) {
    const hasher = new Hasher('sha256');
    return {
      update: async (bytes, transfer = false) => {
        hasher.update(bytes);
        if (transfer) release(bytes);
      },
      finish: async () => hasher.finish(),
      close: () => { try { hasher.free(); } catch { /* freed by finish */ } },
    };
  }
  let inFlight = 0;
  /** @type {{code: string, message: string} | null} */
  let failure = null;
  /** @type {{resolve: (value?: unknown) => void, reject: (reason: unknown) => void} | null} */
  let waiting = null; // {resolve, reject} of the one pending update or finish
  const settle = () => {
    const w = waiting;
    waiting = null;
    if (w && failure) w.reject(failure);
    else w?.resolve();
  };
  /** @type {string | null} */
  let sha256 = null;
  /** From hash-worker.js. */
  port.onmessage = (/** @type {{data: {ack?: boolean, sha256?: string, error?: string}}} */ { data }) => {
    if (data.error) failure = { code: 'INTERNAL', message: `SHA-256: ${data.error}` };
    if (data.ack) inFlight--;
    if (data.sha256) sha256 = data.sha256;
    settle();
  };
  // A worker started here fails here; one started by the document, there (pli/to-file.js).
  if (worker) {
    worker.onerror = (e) => {
      e.preventDefault?.();
      failure = { code: 'INTERNAL', message: `SHA-256 worker: ${e.message ?? 'failed'}` };
      settle();
    };
  }
  const to = port;
  const wait = () => new Promise((resolve, reject) => { waiting = { resolve, reject }; });
  return {
    /**
     * @param {Uint8Array} bytes
     * @param {boolean} [transfer] hand over the buffer (whole, nobody else's: the worker frees
     *   it once hashed) rather than a copy
     */
    async update(bytes, transfer = false) {
      while (inFlight >= MAX_HASH_IN_FLIGHT && !failure) await wait();
      if (failure) throw failure;
      inFlight++;
      if (transfer) to.postMessage({ bytes }, [bytes.buffer]);
      else to.postMessage({ bytes }); // a copy
    },
    async finish() {
      to.postMessage({ finish: true });
      while (sha256 === null && !failure) await wait();
      if (failure) throw failure;
      return sha256;
    },
    close: () => {
      to.close();
      worker?.terminate();
    },
  };
}

