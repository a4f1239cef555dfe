// @ts-check
// Opening a pli from a File or Blob, shared by the extension frame (frame/frame.js: the page
// API's `decrypt`) and the « Ouvrir un pli » page (pli.js). The pli is read in pieces into
// one reused buffer (common/pieces.js); the WASM core parses it and keeps every check (the
// GCM tag, the CBC padding), WebCrypto runs the AES of the bulk and GCM's GHASH of each piece
// (pli/bulk.js; 3DES in the core). No copy of the whole pli or of its plaintext is made here: each piece of
// plaintext goes to the caller's `write` as soon as it is decrypted, one piece in flight
// while the next is read and decrypted.
//
// Release rule: what `write` receives is provisional until `openPli` resolved (the core
// checked the padding or the GCM tag at the end). On a rejection the caller discards
// everything it was given.
import { PliDecryptor } from '../pkg/paraphe_files.js';
import { startFilesModule } from '../common/files-module.js';
import { base64 } from '../common/base64.js';
import { pieces } from '../common/pieces.js';
import { bulkDecryptor, decryptPiece } from './bulk.js';

/**
 * Read size: large enough that the per-call costs (core, WebCrypto, writes) vanish, and
 * below 1 MiB. Every piece makes fresh buffers (WebCrypto's copy of its input, its
 * output), and from about 1 MiB up Chromium's allocator maps each one anew and unmaps it when
 * freed, so that every page of it faults in again: WebCrypto's AES-CTR and GHASH of 100 MiB
 * took 213–320 ms in 1 and 2 MiB pieces, 70–113 ms in 256–768 KiB ones (same worker, same
 * run), and opening a 100 MiB pli went from 0.9 to 0.6 s (issue 18's note of stop 18).
 */
export const PIECE_BYTES = 512 << 10;

/**
 * @typedef {object} Opening
 * @property {(prefix: string) => Promise<{key: string} & Record<string, any>>} unwrap the pli up to the end of its
 *   header (base64) → the content-encryption key the card unwrapped (base64), and whatever
 *   else the caller wants back
 * @property {(plaintext: Uint8Array<ArrayBuffer>) => Promise<void> | void} write the next piece of
 *   plaintext (provisional until openPli resolves); awaited before the piece after it
 * @property {(done: number) => void} [progress] bytes of the pli read so far
 */

/**
 * Opens the pli `blob` with the files module (pkg/paraphe_files, started here if it is not). Resolves with what `unwrap`
 * resolved with (the key left out) once the whole plaintext went to `write` and the core
 * checked its end; rejects with the core's `{code, message}` JSON text or what `unwrap` or
 * `write` threw.
 * @param {Blob} blob
 * @param {Opening} opening
 * @returns {Promise<Record<string, any>>}
 */
export async function openPli(blob, { unwrap, write, progress = () => {} }) {
  const { memory } = /** @type {{memory: WebAssembly.Memory}} */ (await startFilesModule());
  const pli = new PliDecryptor();
  /**
   * The ciphertext `bytes` yield, as a view of the core's memory (PliDecryptor.feed_in_place):
   * valid until the next call into the core, so for WebCrypto at once.
   * @param {Uint8Array} bytes
   */
  const inPlace = (bytes) => {
    const n = pli.feed_in_place(bytes);
    return new Uint8Array(memory.buffer, pli.out_pointer(), n);
  };
  /**
   * AES-GCM: the IV under which an AES-GCM encryption of the ciphertext from content block
   * `blocks` on decrypts it (pli/bulk.js), copied out of the core's memory; null if none.
   * @param {number} blocks
   */
  const keystreamIv = (blocks) => {
    const at = pli.keystream_iv_at(blocks);
    return at === undefined ? null : new Uint8Array(memory.buffer, at, 16).slice();
  };
  try {
    let read = 0;
    /** @type {Uint8Array[]} */
    const head = []; // copies of the pieces up to the header (usually the first one)
    /** @type {import('./bulk.js').BulkDecryptor | null} */
    let bulk = null;
    let keyed = false;
    let opened = null;
    let previous = Promise.resolve(); // the last piece: decrypted, then written
    const next = (/** @type {Promise<Uint8Array<ArrayBuffer>>} */ piece) => {
      const before = previous;
      previous = before.then(async () => {
        const plaintext = await piece;
        try {
          await write(plaintext);
        } catch (e) {
          throw e && typeof e.code === 'string' ? e : { code: 'INTERNAL', message: `the plaintext could not be written: ${e?.message ?? e}` };
        }
      });
      previous.catch(() => {}); // awaited below
      return before;
    };
    progress(0);
    try {
      for await (const bytes of pieces(blob, PIECE_BYTES)) {
        read += bytes.length;
        if (keyed) {
          // The core copies the piece and hands out ciphertext (or plaintext, 3DES); WebCrypto
          // copies its input at the call: the buffer may be read into again at once. The
          // ciphertext is a view of the core's memory (inPlace: no buffer made per piece),
          // handed to WebCrypto before any other call into the core.
          await next(decryptPiece(bulk, bulk ? inPlace(bytes) : pli.feed(bytes)));
        } else {
          head.push(bytes.slice());
          pli.feed(bytes); // nothing comes out before the key
          if (pli.header() !== undefined) {
            const all = concat(head);
            head.length = 0;
            const { key, ...rest } = await unwrap(base64(all.subarray(0, Number(pli.consumed()))));
            opened = rest;
            bulk = await bulkDecryptor(pli.set_key_external_base64(key), key, (tag) => pli.absorb_ghash(tag), keystreamIv);
            keyed = true;
            // What came after the header in that piece.
            await next(decryptPiece(bulk, bulk ? inPlace(new Uint8Array(0)) : pli.feed(new Uint8Array(0))));
          }
        }
        progress(read);
      }
    } catch (e) {
      if (typeof e === 'string' || (e && typeof e.code === 'string')) throw e; // the core's, unwrap's, write's
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    if (!keyed) pli.finish(); // throws: truncated, or not a pli
    if (read !== blob.size) throw { code: 'INVALID_REQUEST', message: 'the file changed while it was read' };
    await previous;
    // Only here is the plaintext known to be complete (and authentic, for AES-GCM): the
    // padding or the tag is checked, and the core returns the last block's plaintext.
    const last = /** @type {Uint8Array<ArrayBuffer>} */ (pli.finish());
    if (last.length > 0) await write(last);
    return opened;
  } finally {
    pli.free();
  }
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
