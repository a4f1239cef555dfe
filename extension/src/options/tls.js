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

const pkcs11 = globalThis.browser?.pkcs11; // Firefox build only

/** The manifest name of a module, as manifests/generate.sh (pkcs11-name) and the host make it. */
export function moduleName(path) {
  const base = path.split(/[/\\]/).pop();
  const dot = base.lastIndexOf('.');
  const stem = (dot >= 0 ? base.slice(0, dot) : base).toLowerCase();
  return `fr.paraphe.pkcs11.${stem.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

async function ask(message) {
  const reply = await api.runtime.sendMessage(message);
  if (reply?.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.result;
}

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

function failed(e) {
  const known = e?.code && api.i18n.getMessage(`error_${e.code}`);
  show([], `${t('optionsTlsFailed')} ${known || e?.message || e}`, 'error');
  $('tls-install').disabled = false;
}

// ---- Firefox -------------------------------------------------------------------------------

/** Each module the host loaded, with its manifest name and whether Firefox has it. */
async function firefoxModules() {
  const status = await ask({ kind: 'status' });
  if (!status.host.available) throw Object.assign(new Error(status.host.error?.message ?? ''), status.host.error ?? {});
  const out = [];
  for (const m of status.modules.filter((x) => x.loaded)) {
    const name = moduleName(m.path);
    let installed = null; // null: no manifest for it
    try {
      installed = await pkcs11.isModuleInstalled(name);
    } catch { /* no PKCS#11 manifest of that name */ }
    out.push({ path: m.path, name, installed });
  }
  return out;
}

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
  const done = pkcs11 ? installFirefox() : ask({ kind: 'tls', register: true }).then((s) => showChromium(s, true));
  done.catch(failed);
});

(pkcs11 ? firefoxModules().then(showFirefox) : ask({ kind: 'tls', register: false }).then((s) => showChromium(s, false)))
  .catch(failed);
