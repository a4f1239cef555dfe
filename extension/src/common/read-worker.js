// @ts-check
// Reads a Blob on a thread of its own and hands its pieces over one by one, for
// common/pieces.js (piecesReadAhead): the document uses a piece (hashes it) while this
// worker reads the next ones. Started by a document only (a worker that starts a worker
// now and then hung in Firefox: pli/link.js).
//   document → worker: {blob, bytes} once, then {back: ArrayBuffer} for each piece used
//   worker → document: {piece: Uint8Array} (in a buffer handed over), …, then {done: true},
//                      or {error: message} (pieces.js, readAhead)
import { readAhead } from './pieces.js';

self.onmessage = (/** @type {MessageEvent<{blob?: Blob, bytes?: number}>} */ { data }) => {
  if (!(data.blob instanceof Blob)) return;
  // A worker's scope (the DOM's types know only Window's `self`).
  const scope = /** @type {import('./pieces.js').ReadPort} */ (/** @type {unknown} */ (self));
  readAhead(data.blob, Number(data.bytes), scope); // from now on, readAhead takes the messages
};
