// @ts-check
// Reading a File or Blob for a signature, in the extension's process, with the files module
// (files-wasm/, pkg/paraphe_files: its glue must be initialized first): a document's digest, and PAdES's PDF steps. Used by
// the extension frame (frame/frame.js, the page API's files) and « Signer des fichiers »
// (sign/sign.js, the extension's own page).
//
// PAdES: each PDF streams by once through the files module's PdfInput, which hashes all of it (the
// digest for the consent window, and the start of the byte-range digest) and keeps only the
// parts its reader asks for, read from the Blob where they are (the tail, the cross-reference
// sections, the objects the update rewrites): a large PDF is never held whole. That also
// checks it (not a PDF, encrypted, certified with no change allowed: before any consent).
// The PdfInput is kept by the caller until it asks for the layout for the chosen certificate
// (the incremental update with its placeholder and the digest of the byte ranges, a
// formats::Job::Pades as JSON text), then freed.
import { Hasher, PdfInput } from '../pkg/paraphe_files.js';
import { piecesReadAhead } from './pieces.js';

const HASH_PIECE_BYTES = 1 << 20;

/** A PDF checked by `checkPdf`, until its PdfInput is freed. @typedef {{pdf: PdfInput, blob: Blob}} CheckedPdf */

/**
 * Streams the whole PDF through a PdfInput, then reads what its reader asks for; its digest
 * (lowercase hex) and the checked PDF (free `pdf` when done). Throws `{code, message}` or the
 * core's JSON text.
 * @param {Blob} blob @param {string} algorithm
 * @returns {Promise<{hex: string, entry: CheckedPdf}>}
 */
export async function checkPdf(blob, algorithm) {
  const pdf = new PdfInput(blob.size, algorithm);
  const entry = { pdf, blob };
  try {
    try {
      for await (const bytes of piecesReadAhead(blob, HASH_PIECE_BYTES)) pdf.hash(bytes);
    } catch (e) {
      if (typeof e === 'string') throw e; // the core's (JSON text): the file grew
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    for (let need = pdf.missing(); need; need = pdf.missing()) await fill(entry, JSON.parse(need));
    return { hex: pdf.digest(), entry };
  } catch (e) {
    pdf.free();
    throw e;
  }
}

/**
 * The checked PDF laid out for `certificate` (DER, base64): a formats::Job::Pades, JSON text.
 * `visible`: the signature drawn in the bottom-right corner of the last page. `timestamp`:
 * with room for a signature time-stamp (PAdES B-T, a time-stamp authority is configured: the
 * background asks so, and refuses a layout without the room).
 * @param {CheckedPdf} entry @param {string} certificate @param {number} now
 * @param {{visible?: boolean, timestamp?: boolean}} [options]
 */
export async function layoutPdf(entry, certificate, now, { visible = false, timestamp = false } = {}) {
  for (;;) {
    const text = entry.pdf.layout(certificate, now, visible, timestamp);
    const need = JSON.parse(text).need;
    if (!need) return text;
    await fill(entry, need);
  }
}

/** The bytes the reader asked for, from the Blob. @param {CheckedPdf} entry @param {{offset: number, length: number}} need */
async function fill({ pdf, blob }, { offset, length }) {
  let bytes;
  try {
    bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
  } catch (e) {
    throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
  }
  if (bytes.length !== Math.min(length, blob.size - offset)) throw { code: 'INVALID_REQUEST', message: 'the file changed while it was read' };
  pdf.fill(offset, bytes);
}

/**
 * The document's digest, lowercase hex.
 * @param {Blob} blob
 * @param {unknown} algorithm
 */
export async function digest(blob, algorithm) {
  const hasher = new Hasher(String(algorithm)); // refuses what documents are not hashed with
  try {
    let read = 0;
    try {
      for await (const bytes of piecesReadAhead(blob, HASH_PIECE_BYTES)) {
        hasher.update(bytes);
        read += bytes.length;
      }
    } catch (e) {
      throw { code: 'INVALID_REQUEST', message: `the file could not be read: ${e?.message ?? e}` };
    }
    if (read !== blob.size) throw { code: 'INVALID_REQUEST', message: 'the file changed while it was read' };
    return hasher.finish();
  } finally {
    hasher.free();
  }
}
