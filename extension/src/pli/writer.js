// @ts-check
// The owner's side of pli/writer-worker.js: pli/file-worker.js hands each piece of plaintext
// to `write`, which returns at once unless MAX_WRITES_IN_FLIGHT pieces are still waiting to be
// written (memory stays bounded whatever the pli's size), so the decryption goes on while the
// writer's thread writes. The two workers talk through the document which started both
// (pli/link.js, pli/to-file.js); that document also sees the writer fail (onerror).
/** Pieces handed to the writer and not yet written, at most (PIECE_BYTES each, pli/stream.js). */
const MAX_WRITES_IN_FLIGHT = 8;
/**
 * How long `abort` waits for the writer to say it closed the file. A writer stuck in a call
 * of its access handle (they block its thread) never says it, and the failure being reported
 * would wait for ever; after this the failure goes on, and the document that started the
 * writer ends it and deletes the file (pli/to-file.js).
 */
const ABORT_WAIT_MS = 5_000;

/**
 * @typedef {object} FileWriter
 * @property {(bytes: Uint8Array) => Promise<void>} write the next piece, handed over (the
 *   caller must not use it after; a view of a larger buffer is copied); rejects with the
 *   writer's `{code, message}` once it failed
 * @property {() => Promise<{size: number, sha256: string | null}>} finish once every piece
 *   was handed over: the file is complete and closed
 * @property {() => Promise<void>} abort closes the file (the caller deletes it); gives up
 *   waiting for the writer after ABORT_WAIT_MS
 */

/**
 * Has the writer at the end of `port` write the OPFS file `name` (created, or emptied;
 * `reserve` bytes at most), computing its SHA-256 on the way if asked.
 * @param {import('./link.js').Link} port to pli/writer-worker.js
 * @param {string} name
 * @param {{sha256: boolean, reserve: number}} options
 * @returns {FileWriter}
 */
export function fileWriter(port, name, { sha256, reserve }) {
  let inFlight = 0;
  /** @type {{code: string, message: string} | null} */
  let failure = null;
  /** @type {{size: number, sha256: string | null} | null} */
  let finished = null;
  let aborted = false;
  /** @type {(() => void)[]} */
  let waiting = []; // callers waiting for the worker's next message (write, finish, abort)
  const wait = () => new Promise((resolve) => { waiting.push(() => resolve(undefined)); });
  const wake = () => {
    const w = waiting;
    waiting = [];
    for (const resume of w) resume();
  };
  port.onmessage = ({ data }) => {
    if (data?.ack) inFlight--;
    if (data?.finished) finished = data.finished;
    if (data?.aborted) aborted = true;
    if (data?.error) failure ??= data.error;
    wake();
  };
  port.postMessage({ open: { name, sha256, reserve } });
  return {
    async write(bytes) {
      if (bytes.length === 0) return;
      while (inFlight >= MAX_WRITES_IN_FLIGHT && !failure) await wait();
      if (failure) throw failure;
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      inFlight++;
      port.postMessage({ bytes: whole }, [whole.buffer]);
    },
    async finish() {
      port.postMessage({ finish: true });
      while (!finished && !failure) await wait();
      if (failure) throw failure;
      port.close();
      return /** @type {{size: number, sha256: string | null}} */ (finished);
    },
    async abort() {
      port.postMessage({ abort: true });
      let late = false;
      const timer = setTimeout(() => { late = true; wake(); }, ABORT_WAIT_MS);
      while (!aborted && !late) await wait();
      clearTimeout(timer);
      port.close();
    },
  };
}
