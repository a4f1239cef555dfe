// @ts-check
// Card login: an origin-bound `web-eid:1.0` token, for the page API's `authenticate` and
// for Web eID pages (webeid.js). The person sees "log in to <origin>" in the consent window,
// picks one of the **authentication** certificates (never a signing one) and types the PIN;
// then one login, the host's `authenticate` with the origin the browser reported for the
// requesting frame, and a logout.
import { ParapheError } from '../common/api.js';
import * as core from './core.js';
import * as consent from './consent.js';
import { certificateChoices, noSuitableCertificate } from './choices.js';
import * as native from './native.js';
import * as sessions from './sessions.js';

/**
 * Certificates of the connected tokens fit for `usage` (`signing`, `authentication`…), as the
 * consent window shows them, with the token's PIN facts. Expired ones are left out.
 * @param {import('./core.js').Usage} usage
 */
export async function validChoices(usage) {
  return (await certificateChoices(usage)).choices.filter((c) => !c.expired);
}

/**
 * Only the members of a `web-eid:1.0` token, so nothing else from the host reaches a page.
 * @param {{unverifiedCertificate?: unknown, algorithm?: unknown, signature?: unknown, format?: unknown, appVersion?: unknown} | null | undefined} result
 *   the host's `authenticate` result (each member checked here)
 * @param {import('./core.js').Choice} choice
 */
function tokenOf(result, choice) {
  const { unverifiedCertificate, algorithm, signature, format, appVersion } = result ?? {};
  if (![unverifiedCertificate, algorithm, signature, format, appVersion].every((x) => typeof x === 'string')
    || unverifiedCertificate !== choice.certificate) {
    throw new ParapheError('INTERNAL', 'unexpected authenticate result from the host');
  }
  return { unverifiedCertificate, algorithm, signature, format, appVersion };
}

/**
 * Resolves with the token once the person consented. `origin` must come from the browser
 * (the message sender), never from the page. `timeoutMs`: consent window timeout (TIMEOUT).
 */
/**
 * @param {{origin: string, challengeNonce: string, tabTitle?: string, tabId?: number, timeoutMs?: number}} request
 *   `tabId`: the requesting tab (its window closes with it)
 */
export async function authenticate({ origin, challengeNonce, tabTitle = '', tabId, timeoutMs }) {
  const release = native.hold();
  try {
    const choices = await validChoices('authentication');
    if (choices.length === 0) {
      return await noSuitableCertificate({ kind: 'authenticate', origin, tabTitle, tabId },
        new ParapheError('NO_CERTIFICATE', 'no valid authentication certificate on a connected token'), { timeoutMs });
    }
    const view = { kind: 'authenticate', origin, tabTitle, tabId, items: [], choices, purpose: 'authenticate' };
    return await consent.ask(view, (choice, pin) => sessions.withLogin(choice, pin, async (session) => {
      const result = await native.call('authenticate',
        (id) => core.authenticateRequest(id, session, origin, challengeNonce));
      return tokenOf(result, choice);
    }, 'authenticate'), { timeoutMs });
  } finally {
    release();
  }
}
