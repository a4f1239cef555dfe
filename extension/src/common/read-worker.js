// @ts-check
// Reads a Blob on a thread of its own and hands its pieces over one by one, for
// common/pieces.js (piecesReadAhead): the document uses a piece (hashes it) while this
// worker reads the next ones. Started by a document only (a worker that starts a worker
// now and then hung in Firefox: pli/link.js).
//   document → worker: {blob, bytes} once, then {back: ArrayBuffer} for each piece used
//   worker → document: {piece: Uint8Array} (in a buffer handed over), …, then {done: true},
//                      or {error: message}
import { pieces } from './pieces.js';

/**
 * Pieces read and not yet used by the document, at most: each in a buffer of its own that
 * comes back once used, so that the memory is this many pieces whatever the file's size.
 */
const MAX_AHEAD = 4;

/** Buffers free to take the next piece. @type {ArrayBuffer[]} */
const free = [];
/** @type {(() => void) | null} */
let wake = null;

self.onmessage = async (/** @type {MessageEvent<{back?: ArrayBuffer, blob?: Blob, bytes?: number}>} */ { data }) => {
  if (data.back) {
    free.push(data.back);
    wake?.();
    wake = null;
    return;
  }
  if (!(data.blob instanceof Blob)) return;
  const bytes = Number(data.bytes);
  for (let i = 0; i < MAX_AHEAD; i++) free.push(new ArrayBuffer(bytes));
  try {
    // pieces() reads into one buffer of its own: each piece is copied into a free one.
    for await (const piece of pieces(data.blob, bytes)) {
      while (free.length === 0) await new Promise((resolve) => { wake = () => resolve(undefined); });
      const buffer = /** @type {ArrayBuffer} */ (free.pop());
      new Uint8Array(buffer).set(piece);
      self.postMessage({ piece: new Uint8Array(buffer, 0, piece.length) }, { transfer: [buffer] });
    }
    self.postMessage({ done: true });
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
  }
};
