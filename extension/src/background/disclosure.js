// @ts-check
// Which sites may read the certificates on the person's tokens. A certificate names its
// holder (and often their employer), and so does a token's label: a page learns them only
// after the person agreed, once per site, in a window the page cannot touch (« Autoriser ce
// site »). The list is `certificateListOrigins` in common/store.js (where content scripts
// cannot write); the options page shows it and takes sites off it. Signing, logging in and
// opening plis need no such grant: their own consent window shows the certificate to the
// person, and only the one used reaches the page.
import * as store from '../common/store.js';
import * as consent from './consent.js';

export const CERTIFICATE_ORIGINS = /** @type {const} */ ('certificateListOrigins');

/** The sites allowed, as the store checked them (well-formed origins). */
async function origins() {
  return (await store.get([CERTIFICATE_ORIGINS]))[CERTIFICATE_ORIGINS] ?? [];
}

/**
 * Whether `origin` (the browser's, never the page's word) may read certificates and token labels.
 * @param {string} origin
 */
export async function allowed(origin) {
  return (await origins()).includes(origin);
}

/**
 * Asks the person whether `origin` may see `choices` (the certificates listCertificates is
 * about to return). Resolves once they allowed it (remembered); rejects USER_CANCELLED.
 * @param {string} origin @param {string} tabTitle
 * @param {import('../common/types.js').ConsentChoice[]} choices
 * @param {number} [tabId] the requesting tab (the window closes with it)
 */
export function ask(origin, tabTitle, choices, tabId) {
  const view = { kind: 'certificate-list', origin, tabTitle, tabId, items: [], choices };
  return consent.ask(view, () => store.updateList(CERTIFICATE_ORIGINS, origin, true));
}
