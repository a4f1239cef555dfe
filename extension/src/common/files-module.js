// @ts-check
// The start of the files module (files-wasm/, pkg/paraphe_files: hashing, plis, PDFs, the
// zip), for every page and worker that uses it: « Signer des fichiers » (sign/sign.js),
// « Ouvrir un pli » (pli/pli.js, pli/hash-worker.js, pli/file-worker.js) and the extension
// frame (frame/frame.js, which starts it only once its port is taken). No DOM here: the
// workers import it too.
import init from '../pkg/paraphe_files.js';

/** @type {Promise<unknown> | null} */
let started = null;

/**
 * Instantiates the files module on the first call; the same promise after. Await it before
 * using the module's exports (`Hasher`, `PliDecryptor`, `PdfInput`, `Crc32`, `ZipArchive`).
 * @returns {Promise<unknown>}
 */
export function startFilesModule() {
  started ??= init({ module_or_path: new URL('../pkg/paraphe_files_bg.wasm', import.meta.url) });
  return started;
}
