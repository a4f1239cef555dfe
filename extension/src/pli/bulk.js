// @ts-check
// WebCrypto's side of the WASM core's external mode (PliDecryptor.set_key_external_base64),
// used by pli/stream.js: the core parses the pli and keeps every check; WebCrypto runs the
// AES of the bulk (native AES, where the core's software AES in WASM runs at 20-40 MB/s) and,
// for AES-GCM, the GHASH of each piece (native carry-less multiply, where the core's in WASM
// ran at about 230 MiB/s of CPU: the slowest step of opening a pli).

import { base64, fromBase64 } from '../common/base64.js';

export { base64, fromBase64 };

/**
 * Decrypts the next piece of ciphertext (whole AES blocks) through WebCrypto.
 * @typedef {(ciphertext: Uint8Array<ArrayBuffer>) => Promise<ArrayBuffer>} BulkDecryptor
 */

/**
 * A port whose other end is closed: what is transferred to it is dropped, memory and all.
 * Created at the first release.
 * @type {MessagePort | null}
 */
let bin = null;

/**
 * Frees the memory of `bytes` now rather than at the garbage collector's next pass: a pli's
 * pieces are large and many. For buffers nobody else holds, whole (not a view of a larger
 * buffer). Detaching from JavaScript (`transfer(0)`) is not enough in Chromium: the buffers
 * WebCrypto returns are also held by the browser's side of the page (Blink) until their
 * wrapper is collected, late (the extension's process grew by twice the pli:
 * docs/BENCHMARKS.md). Transferring one in a message moves its memory out of them, and a
 * port whose other end is closed discards the message at once.
 * @param {Uint8Array} bytes
 */
export function release(bytes) {
  const buffer = /** @type {ArrayBuffer & {transfer?: (n: number) => ArrayBuffer}} */ (bytes.buffer);
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return; // a view of a larger buffer
  try {
    if (!bin && typeof MessageChannel === 'function') {
      const { port1, port2 } = new MessageChannel();
      port2.close();
      bin = port1;
    }
    if (bin) {
      bin.postMessage(null, [buffer]);
      return;
    }
  } catch { /* not transferable (WASM memory, already detached) */ }
  try {
    buffer.transfer?.(0);
  } catch { /* not transferable */ }
}

/**
 * From the parameters `set_key_external_base64` returned (JSON) and the key: a function that
 * decrypts the next piece of ciphertext the core handed out (whole AES blocks), or null when
 * the core decrypts by itself (3DES). The chaining value (CBC) or counter (GCM's CTR) of each
 * piece is taken synchronously, so pieces may be in flight together. The function owns the
 * piece (it frees it once WebCrypto has copied it).
 *
 * AES-GCM: the piece's GHASH too, natively: the tag of WebCrypto's AES-GCM encryption of
 * nothing under the core's `ghashIv`, with the piece as additional data, goes back to the
 * core through `absorb`, piece after piece in order (the core chains them and checks the
 * pli's tag itself in `finish`). Each piece's promise settles once its tag was absorbed.
 * In Firefox the piece itself is decrypted by an AES-GCM *encryption* under the IV
 * `keystreamIv` gives (PliDecryptor.keystream_iv_at: its CTR starts at the piece's counter),
 * not by AES-CTR: Firefox's AES-GCM ran at 870–900 MiB/s where its AES-CTR ran at 420–490
 * (100 MiB in 512 KiB pieces, same worker, same run; Chromium's two are alike, 1.0–1.3 GiB/s).
 * @param {string | undefined} json
 * @param {string} keyBase64
 * @param {(tag: Uint8Array) => void} absorb PliDecryptor.absorb_ghash
 * @param {(blocks: number) => Uint8Array<ArrayBuffer> | null} [keystreamIv] the IV for the
 *   piece from content block `blocks` on; called before WebCrypto, so it must not disturb a
 *   view of the core's memory (PliDecryptor.keystream_iv_at allocates nothing). Without it
 *   (the background's fallback, background/pli.js), AES-CTR.
 * @returns {Promise<BulkDecryptor | null>}
 */
export async function bulkDecryptor(json, keyBase64, absorb, keystreamIv = () => null) {
  if (!json) return null;
  const params = JSON.parse(json);
  const raw = fromBase64(keyBase64);
  try {
    if (params.name === 'AES-GCM') return await gcm(params, raw, absorb, GCM_KEYSTREAM ? keystreamIv : () => null);
    return await cbc(params, raw);
  } finally {
    raw.fill(0);
  }
}

/** Whether AES-GCM plis are decrypted by AES-GCM encryptions (above) rather than AES-CTR. */
const GCM_KEYSTREAM = typeof navigator === 'object' && navigator.userAgent.includes('Firefox/');

/**
 * @param {{counter: string, ghashIv: string}} params
 * @param {Uint8Array<ArrayBuffer>} raw
 * @param {(tag: Uint8Array) => void} absorb
 * @param {(blocks: number) => Uint8Array<ArrayBuffer> | null} keystreamIv
 * @returns {Promise<BulkDecryptor>}
 */
async function gcm(params, raw, absorb, keystreamIv) {
  const ctr = await crypto.subtle.importKey('raw', raw, 'AES-CTR', false, ['decrypt']);
  // AES-GCM encryptions: each piece's GHASH, and in Firefox its plaintext (keystreamIv).
  const gcmKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  const first = fromBase64(params.counter);
  const iv = fromBase64(params.ghashIv);
  const nothing = new Uint8Array(0);
  let blocks = 0;
  /** The last piece's tag, absorbed (in order: each waits for the one before). */
  let absorbed = Promise.resolve();
  return (ciphertext) => {
    const at = blocks;
    blocks += ciphertext.length / 16;
    const keyIv = keystreamIv(at >>> 0);
    /** @type {Promise<ArrayBuffer>} */
    let plaintext;
    if (keyIv) {
      // The output is the plaintext and a tag of no use here: cut off (the buffer moved, not
      // copied, where the engine can; Firefox ≥ 122 has `transfer`, the manifest asks 128).
      plaintext = crypto.subtle.encrypt({ name: 'AES-GCM', iv: keyIv, tagLength: 128 }, gcmKey, ciphertext)
        .then((out) => /** @type {ArrayBuffer & {transfer: (n: number) => ArrayBuffer}} */ (out).transfer(out.byteLength - 16));
    } else {
      const counter = first.slice();
      const view = new DataView(counter.buffer);
      view.setUint32(12, (view.getUint32(12) + at) >>> 0); // inc32, as GCM counts
      plaintext = crypto.subtle.decrypt({ name: 'AES-CTR', counter, length: 32 }, ctr, ciphertext);
    }
    const tag = crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: ciphertext, tagLength: 128 }, gcmKey, nothing);
    release(ciphertext); // WebCrypto copied it at each call
    absorbed = absorbed.then(() => tag).then((t) => absorb(new Uint8Array(t)));
    return Promise.all([plaintext, absorbed]).then(([p]) => p);
  };
}

/**
 * @param {{iv: string}} params
 * @param {Uint8Array<ArrayBuffer>} raw
 * @returns {Promise<BulkDecryptor>}
 */
async function cbc(params, raw) {
  const key = await crypto.subtle.importKey('raw', raw, 'AES-CBC', false, ['decrypt']);
  // WebCrypto's AES-CBC insists on PKCS#7 padding at the end of every call, and the pli's
  // pieces have none (the core keeps the real last block and checks its padding itself). So
  // the core ends each piece with one more block, E(16 × 0x10 ⊕ last block), which decrypts
  // to a whole padding block that WebCrypto checks and strips; the next piece chains on the
  // block before it.
  let iv = fromBase64(params.iv);
  return (ciphertext) => {
    const chain = iv;
    iv = ciphertext.slice(ciphertext.length - 32, ciphertext.length - 16);
    const plaintext = crypto.subtle.decrypt({ name: 'AES-CBC', iv: chain }, key, ciphertext);
    release(ciphertext); // WebCrypto copied it at the call
    return plaintext;
  };
}

/**
 * Plaintext of a piece from the core: through WebCrypto when it handed out ciphertext.
 * @param {BulkDecryptor | null} bulk
 * @param {Uint8Array} piece the core's: a copy out of its memory (PliDecryptor.feed), or
 *   with `bulk` a view of it (feed_in_place), which `bulk` hands to WebCrypto synchronously
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
export function decryptPiece(bulk, piece) {
  const bytes = /** @type {Uint8Array<ArrayBuffer>} */ (piece);
  if (!bulk || bytes.length === 0) return Promise.resolve(bytes);
  const p = Promise.resolve(bulk(bytes)).then((b) => new Uint8Array(b));
  p.catch(() => {}); // awaited in order by the caller
  return p;
}
