// @ts-check
// Reading a File or Blob as a stream of pieces into one buffer used again and again, for the
// extension frame (frame/frame.js: document digests, plis of the page API) and « Ouvrir un
// pli » (pli/pli.js). No garbage buffer per piece, so memory stays that buffer whatever the
// file's size. piecesReadAhead (document digests and PDFs, common/files.js) has them read
// on a worker (common/read-worker.js) where that is faster: Firefox.

/**
 * How long a read of the Blob's stream may give nothing before it is given up and the piece
 * read again from a new stream. Chromium: a read of the stream of a page's File handed to the
 * extension frame now and then never resolves, mid-file, and the request waited for ever
 * (seen with tests/browser/bench-hash-page.mjs in 4 of 6 runs, each 20 signDocument of a
 * 256 MiB file, stuck 832 KiB into a 1 MiB piece; most likely what CI's PAdES of 200 MiB in
 * memory.test.js waited for). Slices instead of the stream had no hang in 5 runs, but at
 * 0.7× the speed and +100–150 MiB of garbage buffers in the extension's process. Where a
 * read is merely slow (a network share), starting the piece again costs that piece only.
 */
const STALLED_READ_MS = 5_000;

/**
 * The Blob's bytes, in order, in pieces of `bytes` (the last one shorter). Each piece is a
 * view of the same memory: the caller must be done with it (copied it into the WASM core,
 * handed it to WebCrypto, which copies its input at the call) before asking for the next.
 * Where the browser's Blob stream takes a buffer of the reader's (a BYOB reader), every read
 * goes into that one buffer (a new one after a stalled read, which keeps the old); otherwise
 * in `bytes` slices, one read ahead.
 * @param {Blob} blob
 * @param {number} bytes
 * @param {{stalledMs?: number}} [options] STALLED_READ_MS unless said (tests)
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* pieces(blob, bytes, { stalledMs = STALLED_READ_MS } = {}) {
  /** A BYOB reader of the Blob from `at` on, or null where its stream is not a byte stream. */
  const byob = (/** @type {number} */ at) => {
    try {
      return (at === 0 ? blob : blob.slice(at)).stream().getReader({ mode: 'byob' });
    } catch {
      return null;
    }
  };
  let reader = byob(0);
  if (reader) {
    let buffer = new ArrayBuffer(bytes);
    let at = 0; // where the piece being filled starts in the Blob
    // The watchdog: one timer for the whole file, which cancels a read that gave nothing
    // for `stalledMs` (its reader's cancel ends it). Not a timer and a race per read: in
    // Firefox those were most of what reading a 1 GiB file added to the process's memory
    // (+39 MiB against +25 without them).
    let readSince = 0; // when the read in progress began; 0 between reads
    let stalled = false;
    const watchdog = setInterval(() => {
      if (readSince !== 0 && Date.now() - readSince > stalledMs) {
        stalled = true;
        readSince = 0;
        reader?.cancel().catch(() => {});
      }
    }, Math.max(10, stalledMs / 5));
    try {
      for (;;) {
        // Filled up before it is handed out: a few large pieces, not many small ones.
        let filled = 0;
        let done = false;
        while (filled < bytes && !done) {
          readSince = Date.now();
          const r = await reader.read(new Uint8Array(buffer, filled, bytes - filled));
          readSince = 0;
          if (stalled) {
            // The read kept the buffer (handed to it) and what it held of this piece; the
            // piece again, into a new buffer, from a new stream. (A read that ended just as
            // the watchdog fired is read again too: nothing is lost or doubled.)
            stalled = false;
            console.warn(`pieces: a read stalled ${at + filled} bytes into the file; that piece again from a new stream`);
            reader.releaseLock();
            reader = /** @type {ReadableStreamBYOBReader} */ (byob(at));
            buffer = new ArrayBuffer(bytes);
            filled = 0;
            continue;
          }
          done = r.done;
          if (r.value) {
            buffer = r.value.buffer; // the same memory, handed back by the stream
            filled += r.value.byteLength;
          }
        }
        if (filled > 0) {
          at += filled;
          yield new Uint8Array(buffer, 0, filled);
        }
        if (done) return;
      }
    } finally {
      clearInterval(watchdog);
      reader.releaseLock();
    }
  }
  const slice = (/** @type {number} */ at) => {
    const p = blob.slice(at, at + bytes).arrayBuffer();
    p.catch(() => {}); // awaited below
    return p;
  };
  let next = blob.size > 0 ? slice(0) : null;
  for (let at = 0; next;) {
    const buffer = await next;
    if (buffer.byteLength === 0) return; // shorter than it was: the caller says so
    at += buffer.byteLength;
    next = at < blob.size ? slice(at) : null; // read ahead while this slice is used
    yield new Uint8Array(buffer);
  }
}

/**
 * Where a large file's pieces are read on a worker (common/read-worker.js) while the caller
 * uses the ones before: Firefox, from a document. There the extension frame reads a page's
 * File at about 1 GiB/s, and hashing SHA-512 runs at about 430 MiB/s: on one thread, one
 * after the other, signDocument hashed a 256 MiB file at 240–300 MiB/s, slower than hash-wasm
 * in the page; with the reading on a worker, 330–400 MiB/s (docs/BENCHMARKS.md). Not in
 * Chromium, where the frame's own reading keeps up (the worker was 5–10 % slower there).
 * Not from a worker: a worker that starts one now and then hung in Firefox (pli/link.js).
 */
const READ_ON_WORKER = typeof document !== 'undefined' && typeof Worker === 'function' && navigator.userAgent.includes('Firefox/');
/** Smaller files are read here: starting a worker costs more than it would save. */
const READ_ON_WORKER_FROM_BYTES = 8 << 20;

/**
 * pieces(), read ahead on a worker where that is faster (READ_ON_WORKER), for callers that
 * spend as long on each piece as reading it takes (hashing). The same contract: each piece
 * must be used before the next is asked for (it then goes back to the worker).
 * @param {Blob} blob
 * @param {number} bytes
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* piecesReadAhead(blob, bytes) {
  /** @type {Worker | null} */
  let worker = null;
  if (READ_ON_WORKER && blob.size >= READ_ON_WORKER_FROM_BYTES) {
    try {
      worker = new Worker(new URL('read-worker.js', import.meta.url), { type: 'module' });
    } catch {
      worker = null;
    }
  }
  if (!worker) {
    yield* pieces(blob, bytes);
    return;
  }
  /** What the worker said and the loop below did not take yet. @type {{piece?: Uint8Array, done?: boolean, error?: string}[]} */
  const inbox = [];
  /** @type {(() => void) | null} */
  let wake = null;
  const take = (/** @type {{piece?: Uint8Array, done?: boolean, error?: string}} */ message) => {
    inbox.push(message);
    wake?.();
    wake = null;
  };
  worker.onmessage = ({ data }) => take(data);
  worker.onerror = (e) => {
    e.preventDefault();
    take({ error: e.message || 'the reading worker failed' });
  };
  try {
    worker.postMessage({ blob, bytes });
    for (;;) {
      while (inbox.length === 0) await new Promise((resolve) => { wake = () => resolve(undefined); });
      const { piece, done, error } = /** @type {{piece?: Uint8Array, done?: boolean, error?: string}} */ (inbox.shift());
      if (error !== undefined) throw new Error(error);
      if (done || !piece) return;
      yield piece;
      worker.postMessage({ back: piece.buffer }, [piece.buffer]); // used: the worker's again
    }
  } finally {
    worker.terminate();
  }
}
