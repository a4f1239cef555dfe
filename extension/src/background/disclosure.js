// Which sites may read the certificates on the person's tokens. A certificate names its
// holder (and often their employer), and so does a token's label: a page learns them only
// after the person agreed, once per site, in a window the page cannot touch (« Autoriser ce
// site »). The list is storage.local `certificateListOrigins`; the options page shows it and
// takes sites off it. Signing, logging in and opening plis need no such grant: their own
// consent window shows the certificate to the person, and only the one used reaches the page.
import { api } from '../common/api.js';
import * as consent from './consent.js';

export const CERTIFICATE_ORIGINS = 'certificateListOrigins';

async function origins() {
  const { [CERTIFICATE_ORIGINS]: list } = await api.storage.local.get(CERTIFICATE_ORIGINS);
  return Array.isArray(list) ? list : [];
}

/** Whether `origin` (the browser's, never the page's word) may read certificates and token labels. */
export async function allowed(origin) {
  return (await origins()).includes(origin);
}

/**
 * Asks the person whether `origin` may see `choices` (the certificates listCertificates is
 * about to return). Resolves once they allowed it (remembered); rejects USER_CANCELLED.
 */
export function ask(origin, tabTitle, choices) {
  const view = { kind: 'certificate-list', origin, tabTitle, items: [], choices };
  return consent.ask(view, async () => {
    const list = await origins();
    if (!list.includes(origin)) await api.storage.local.set({ [CERTIFICATE_ORIGINS]: [...list, origin] });
  });
}
