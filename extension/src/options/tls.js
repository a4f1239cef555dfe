// @ts-check
// Options: « Authentification TLS auprès des portails ». For portals that ask for a TLS
// client certificate (@CTES, Hélios…), the browser itself must know the token's PKCS#11
// module.
// - Firefox: the installers write one PKCS#11 manifest per middleware (manifests/README.md,
//   name `fr.paraphe.pkcs11.<slug of the file name>`); the button calls
//   browser.pkcs11.installModule for each module the host loaded (permission "pkcs11", in the
//   Firefox build only).
// - Chromium (Linux): the button asks the background, which asks the host to register the
//   modules in ~/.pki/nssdb with NSS modutil (background/tls.js, host `tls-register`).
import { $, api, t } from '../common/api.js';
import { ask, firefoxModules, pkcs11 } from '../common/tls-setup.js';

/** @typedef {import('../common/types.js').TlsStatus} TlsStatus */

/**
 * @param {{path: string, name: string, text: string}[]} rows
 * @param {string} state
 * @param {string} [cls]
 */
function show(rows, state, cls = '') {
  const list = $('tls-modules');
  list.replaceChildren();
  for (const { path, name, text } of rows) {
    const li = document.createElement('li');
    li.dataset.module = name;
    const code = document.createElement('code');
    code.textContent = path;
    li.append(code, ` — ${text}`);
    list.append(li);
  }
  $('tls-state').textContent = state;
  $('tls-state').className = cls;
}

/** @param {{code?: string, message?: string} | null | undefined} e what was thrown */
function failed(e) {
  const known = e?.code && api.i18n.getMessage(`error_${e.code}`);
  show([], `${t('optionsTlsFailed')} ${known || e?.message || e}`, 'error');
  $('tls-install').disabled = false;
}

// ---- Firefox -------------------------------------------------------------------------------

/** @param {import('../common/types.js').FirefoxModule[]} modules */
function showFirefox(modules) {
  const rows = modules.map((m) => ({
    ...m,
    text: m.installed === null ? t('optionsTlsNoManifest') : t(m.installed ? 'optionsTlsInstalled' : 'optionsTlsNotInstalled'),
  }));
  const ready = modules.some((m) => m.installed);
  const state = modules.length === 0 ? t('optionsTlsNoModule') : t(ready ? 'optionsTlsReadyFirefox' : 'optionsTlsNotReady');
  show(rows, state, ready ? 'notice' : '');
  $('tls-install').disabled = !modules.some((m) => m.installed === false);
}

async function installFirefox() {
  for (const m of await firefoxModules()) {
    if (m.installed === false) await pkcs11.installModule(m.name);
  }
  showFirefox(await firefoxModules());
}

// ---- Chromium ------------------------------------------------------------------------------

/** @param {TlsStatus} s @param {boolean} justRegistered */
function showChromium(s, justRegistered) {
  if (!s.supported) {
    show([], t('optionsTlsSystemStore'), 'notice');
    $('tls-install').hidden = true;
    return;
  }
  const rows = s.modules.map((m) => ({
    path: m.path,
    name: m.nssName,
    text: t(m.added ? 'optionsTlsAdded' : m.registered ? 'optionsTlsInstalled' : 'optionsTlsNotInstalled'),
  }));
  const ready = s.modules.some((m) => m.registered);
  let state = s.modules.length === 0 ? t('optionsTlsNoModule') : t(ready ? 'optionsTlsReadyChromium' : 'optionsTlsNotReady');
  if (justRegistered && s.modules.some((m) => m.added)) state = t('optionsTlsRestart');
  if (!s.modutil && s.modules.some((m) => !m.registered)) state += ` ${t('optionsTlsNoModutil')}`;
  show(rows, state, ready ? 'notice' : '');
  $('tls-install').disabled = !s.modules.some((m) => !m.registered);
}

// ---- both ----------------------------------------------------------------------------------

$('tls-install').textContent = t(pkcs11 ? 'optionsTlsInstallFirefox' : 'optionsTlsInstallChromium');
$('tls-install').addEventListener('click', () => {
  $('tls-install').disabled = true;
  $('tls-state').textContent = t('optionsTlsWorking');
  const done = pkcs11 ? installFirefox() : ask({ kind: 'tls', register: true }).then((/** @type {TlsStatus} */ s) => showChromium(s, true));
  done.catch(failed);
});

(pkcs11 ? firefoxModules().then(showFirefox) : ask({ kind: 'tls', register: false }).then((/** @type {TlsStatus} */ s) => showChromium(s, false)))
  .catch(failed);
