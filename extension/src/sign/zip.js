// @ts-check
// « Tout télécharger (.zip) » of « Signer des fichiers »: one zip holding every output, its
// members stored as they are (formats::zip through the files module). Each output streams once
// through its Crc32; the module writes the bytes before each member and after the last;
// the zip is a Blob of those parts and the outputs' own Blobs, end to end: no output is
// copied, and a signed PDF stays its file followed by its update.
import { Crc32, ZipArchive } from '../pkg/paraphe_files.js';
import { pieces } from '../common/pieces.js';

const PIECE_BYTES = 1 << 20;

/**
 * A name the zip takes (formats::zip refuses paths and control characters): `/`, `\` and
 * control characters become `_`.
 * @param {string} name
 */
export function memberName(name) {
  const clean = [...name].map((c) => {
    const code = c.codePointAt(0) ?? 0;
    return c === '/' || c === '\\' || code < 0x20 || (code >= 0x7f && code < 0xa0) ? '_' : c;
  }).join('');
  return clean === '' || clean === '.' || clean === '..' ? `_${clean}` : clean;
}

/**
 * `names` made distinct, letter case aside (formats::zip refuses two members of the same
 * name): the second `a.pdf.p7s` becomes `a.pdf (2).p7s`.
 * @param {string[]} names
 */
export function distinctNames(names) {
  const taken = new Set();
  return names.map((name) => {
    let candidate = name;
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}

/**
 * The zip of `files` (in order), modified `now` (local time). Throws the core's JSON text
 * (`{code, message, tooLarge}`) for what it refuses: `tooLarge`, 4 GiB or more (no ZIP64).
 * The core's glue must be initialized (core.ready).
 * @param {{name: string, blob: Blob}[]} files
 * @param {Date} [now]
 * @returns {Promise<{blob: Blob, names: string[]}>}
 */
export async function zipOf(files, now = new Date()) {
  const names = distinctNames(files.map((f) => memberName(f.name)));
  const members = [];
  for (const [i, { blob }] of files.entries()) {
    const crc = new Crc32();
    try {
      let size = 0;
      for await (const bytes of pieces(blob, PIECE_BYTES)) {
        crc.update(bytes);
        size += bytes.length;
      }
      if (size !== blob.size) throw { code: 'INTERNAL', message: `${names[i]}: read ${size} bytes of ${blob.size}` };
      members.push({ name: names[i], size, crc32: crc.value() });
    } finally {
      crc.free();
    }
  }
  const archive = new ZipArchive(JSON.stringify(members), now.getFullYear(), now.getMonth() + 1, now.getDate(),
    now.getHours(), now.getMinutes(), now.getSeconds());
  try {
    /** @type {BlobPart[]} */
    const parts = [];
    files.forEach(({ blob }, i) => parts.push(/** @type {Uint8Array<ArrayBuffer>} */ (archive.header(i)), blob));
    parts.push(/** @type {Uint8Array<ArrayBuffer>} */ (archive.trailer()));
    const blob = new Blob(parts, { type: 'application/zip' });
    if (blob.size !== archive.size()) throw { code: 'INTERNAL', message: `the zip is ${blob.size} bytes, not ${archive.size()}` };
    return { blob, names };
  } finally {
    archive.free();
  }
}
