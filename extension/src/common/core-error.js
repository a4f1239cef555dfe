// @ts-check
// One error shape for what the WASM core or a caller throws, in the extension frame
// (frame/frame.js) and the pli worker (pli/file-worker.js). No DOM: workers import it.

/**
 * `{code, message}` from what was thrown: the core's JSON text, an object with a `code`
 * (a `{code, message}` from the background or the owner), an Error or anything else
 * (`INTERNAL`).
 * @param {unknown} thrown
 * @returns {{code: string, message: string}}
 */
export function plainError(thrown) {
  if (typeof thrown === 'string') {
    try {
      const parsed = JSON.parse(thrown);
      if (typeof parsed?.code === 'string') return { code: parsed.code, message: String(parsed.message) };
    } catch { /* not JSON */ }
  }
  // An object's fields (a primitive has none: undefined).
  const e = /** @type {{code?: unknown, message?: unknown} | null | undefined} */ (thrown);
  if (e && typeof e.code === 'string') return { code: e.code, message: String(e.message) };
  return { code: 'INTERNAL', message: String(e?.message ?? e) };
}
