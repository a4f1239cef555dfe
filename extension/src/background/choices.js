// The certificates of the connected tokens, as the consent window and the popup show them:
// the WASM core's view of the host's `list-certificates` (holder, RGS level, expiry…) with
// the PIN facts of each certificate's token.
import { core } from './core.js';
import * as native from './native.js';

/**
 * `{choices, list}` for `usage` (`signing`, `authentication`, `encryption`, `any`): every
 * matching certificate, expired ones included (`expired: true`), and the host's list itself.
 */
export async function certificateChoices(usage) {
  const list = await native.call('list-certificates', {});
  const choices = JSON.parse(core().certificate_choices(JSON.stringify(list), usage, Date.now())).map((c) => {
    const token = list.tokens.find((t) => t.id === c.token);
    return { ...c, pinPad: !!token?.protectedAuthenticationPath, pinStatus: token?.pin ?? null };
  });
  return { choices, list };
}
