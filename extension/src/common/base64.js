// @ts-check
// Base64 of bytes and back, for the extension's modules (background and pages). Content
// scripts, which cannot import modules, have the same two in content/shared.js.

/**
 * Standard base64 of `bytes`, 32 KiB at a time (a spread of a large array overflows the stack).
 * @param {Uint8Array | ArrayBuffer} bytes
 * @returns {string}
 */
export function base64(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < view.length; i += 0x8000) s += String.fromCharCode.apply(null, /** @type {any} */ (view.subarray(i, i + 0x8000)));
  return btoa(s);
}

/**
 * The bytes of standard base64 `text` (throws on anything else).
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
