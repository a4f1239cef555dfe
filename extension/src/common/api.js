// @ts-check
// The WebExtension namespace: Firefox exposes promise-based `browser`, Chromium `chrome`
// (promise-based too for everything used here in MV3).
export const api = globalThis.browser ?? globalThis.chrome;

/** An error with a stable code from docs/PAGE-API.md; `details` are extra fields for the page. */
export class ParapheError extends Error {
  /**
   * @param {string} code
   * @param {string} [message]
   * @param {Record<string, unknown>} [details]
   */
  constructor(code, message, details = {}) {
    super(message || code);
    this.code = code;
    this.details = details;
  }

  toJSON() {
    return { code: this.code, message: this.message, ...this.details };
  }

  /**
   * Whatever was thrown, as a ParapheError (WASM throws the JSON text of {code, message}).
   * @param {unknown} e
   * @returns {ParapheError}
   */
  static from(e) {
    if (e instanceof ParapheError) return e;
    if (typeof e === 'string') {
      try {
        const { code, message } = JSON.parse(e);
        if (code) return new ParapheError(code, message);
      } catch { /* not JSON */ }
      return new ParapheError('INTERNAL', e);
    }
    return new ParapheError('INTERNAL', String(/** @type {{message?: unknown} | null | undefined} */ (e)?.message ?? e));
  }
}

/** Fills every `[data-i18n]` element of an extension page from _locales. */
export function localize(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    if (!(el instanceof HTMLElement)) continue;
    el.textContent = api.i18n.getMessage(el.dataset.i18n ?? '') || (el.dataset.i18n ?? '');
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) continue;
    el.placeholder = api.i18n.getMessage(el.dataset.i18nPlaceholder ?? '');
  }
  document.documentElement.lang = api.i18n.getUILanguage().split('-')[0];
}

/**
 * A message of _locales in the browser's language, `subs` in its placeholders; `key` if none.
 * @param {string} key
 * @param {...unknown} subs
 * @returns {string}
 */
export const t = (key, ...subs) => api.i18n.getMessage(key, subs.map(String)) || key;

/**
 * An element of an extension page's own HTML by id, typed as any form control: these pages
 * know their HTML (a wrong id is a bug that the browser tests show, not a case to handle).
 * @param {string} id
 * @returns {HTMLInputElement & HTMLAnchorElement & {value: any, max: number}} inputs, buttons, links, progress bars, text areas
 */
export const $ = (id) => /** @type {any} */ (document.getElementById(id));
