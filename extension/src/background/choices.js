// @ts-check
// The certificates of the connected tokens, as the consent window and the popup show them:
// the WASM core's view of the host's `list-certificates` (holder, RGS level, expiry, whether
// the certificate can log in…) with the PIN facts of each certificate's token.
import { ParapheError } from '../common/api.js';
import * as core from './core.js';
import * as consent from './consent.js';
import * as disclosure from './disclosure.js';
import * as native from './native.js';

/**
 * `{choices, list}` for `usage` (`signing`, `authentication`, `encryption`, `any`): every
 * matching certificate, expired ones included (`expired: true`), and the host's list itself.
 * `loginCapable`: the certificate can log in (a `web-eid:1.0` token is a signature over a
 * digest), so its key never signs a digest or data the page chose (`sign-raw`).
 * @param {import('./core.js').Usage} usage
 * @returns {Promise<{choices: import('../common/types.js').ConsentChoice[], list: import('../common/types.js').HostCertificateList}>}
 */
export async function certificateChoices(usage) {
  /** @type {import('../common/types.js').HostCertificateList} */
  const list = await native.call('list-certificates', {});
  const choices = (await core.certificateChoices(list, usage)).map((c) => {
    const token = list.tokens.find((t) => t.id === c.token);
    return { ...c, pinPad: !!token?.protectedAuthenticationPath, pinStatus: token?.pin ?? null };
  });
  return { choices, list };
}

/**
 * No certificate fits the request: `err` (NO_CERTIFICATE, RAW_SIGNATURE_REFUSED). A site the
 * person has not allowed to see their certificates (disclosure.js) must not learn that from
 * an instant answer, when a window would have opened had a certificate been there: the
 * window opens all the same, says why nothing can be done, and `err` is thrown only once the
 * person closed it (TIMEOUT if nobody did). Allowed sites get `err` at once. Always throws.
 * `view`: {origin, tabTitle, tabId?, kind, items?}; `timeoutMs` as consent.ask's.
 * @param {{origin: string, tabTitle: string, tabId?: number, kind: string, items?: object[]}} view
 * @param {ParapheError} err
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<never>}
 */
export async function noSuitableCertificate(view, err, { timeoutMs } = {}) {
  if (!(await disclosure.allowed(view.origin))) {
    try {
      await consent.ask({ items: [], ...view, choices: [], failure: err.toJSON() }, async () => { throw err; },
        timeoutMs ? { timeoutMs } : {});
    } catch (e) {
      if (ParapheError.from(e).code !== 'USER_CANCELLED') throw e;
    }
  }
  throw err;
}
