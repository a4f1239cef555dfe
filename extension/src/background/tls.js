// @ts-check
// TLS client authentication in Chromium on Linux (portals that ask for a client certificate,
// e.g. @CTES, Hélios): Chromium offers a token's certificates when the token's PKCS#11
// module is in the user's NSS database. Only the host can run NSS `modutil`: the options page
// asks through the message {kind: "tls", register} (extension pages only), answered with the
// host's `tls-status` / `tls-register` result (docs/PROTOCOL.md). Firefox needs none of this:
// the options page calls browser.pkcs11 itself (options/tls.js).
import * as native from './native.js';

/**
 * The host's view of the NSS database; `register` adds the loaded modules it lacks.
 * @param {boolean} register
 * @returns {Promise<import('../common/types.js').TlsStatus>}
 */
export function tls(register) {
  return native.call(register ? 'tls-register' : 'tls-status', {});
}
