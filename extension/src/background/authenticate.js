// Card login: an origin-bound `web-eid:1.0` token, for the page API's `authenticate` and
// for Web eID pages (webeid.js). The person sees "log in to <origin>" in the consent window,
// picks one of the **authentication** certificates (never a signing one) and types the PIN;
// then one login, the host's `authenticate` with the origin the browser reported for the
// requesting frame, and a logout.
import { ParapheError } from '../common/api.js';
import { core } from './core.js';
import * as consent from './consent.js';
import * as native from './native.js';

/**
 * Certificates of the connected tokens fit for `usage` (`signing`, `authentication`…), as the
 * consent window shows them, with the token's PIN facts. Expired ones are left out.
 */
export async function validChoices(usage) {
  const list = await native.call('list-certificates', {});
  const choices = JSON.parse(core().certificate_choices(JSON.stringify(list), usage, Date.now()));
  return choices
    .filter((c) => !c.expired)
    .map((c) => {
      const token = list.tokens.find((t) => t.id === c.token);
      return { ...c, pinPad: !!token?.protectedAuthenticationPath, pinStatus: token?.pin ?? null };
    });
}

/** Only the members of a `web-eid:1.0` token, so nothing else from the host reaches a page. */
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
export async function authenticate({ origin, challengeNonce, tabTitle = '', timeoutMs }) {
  const release = native.hold();
  try {
    const choices = await validChoices('authentication');
    if (choices.length === 0) {
      throw new ParapheError('NO_CERTIFICATE', 'no valid authentication certificate on a connected token');
    }
    const view = { kind: 'authenticate', origin, tabTitle, items: [], choices };
    return await consent.ask(view, async (choice, pin) => {
      const login = await native.call('login', (id) => core().login_request(id, choice.fingerprint, pin));
      try {
        const result = await native.call('authenticate',
          (id) => core().authenticate_request(id, login.session, origin, challengeNonce));
        return tokenOf(result, choice);
      } finally {
        native.call('logout', (id) => core().logout_request(id, login.session)).catch(() => {});
      }
    }, { timeoutMs });
  } finally {
    release();
  }
}
