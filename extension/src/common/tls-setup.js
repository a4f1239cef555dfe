// Preparing the browser for TLS client authentication (portals that ask for a client
// certificate): the browser itself must know the token's PKCS#11 module. Shared by the
// options page (options/tls.js, which shows each module) and the radar's popup section
// (popup/radar.js: « Préparer le navigateur », then « Réessayer »).
// - Firefox: browser.pkcs11.installModule for each module the host loaded, from the PKCS#11
//   manifests the installers write (permission "pkcs11", Firefox build only).
// - Chromium (Linux): the host's `tls-register` adds the modules to ~/.pki/nssdb (background
//   message {kind: "tls", register: true}); Chromium reads that database when it starts.
import { api } from './api.js';

export const pkcs11 = globalThis.browser?.pkcs11; // Firefox build only

/**
 * The manifest name of a module, as manifests/generate.sh (pkcs11-name) and the host make it.
 * @param {string} path
 * @returns {string}
 */
export function moduleName(path) {
  const base = /** @type {string} */ (path.split(/[/\\]/).pop());
  const dot = base.lastIndexOf('.');
  const stem = (dot >= 0 ? base.slice(0, dot) : base).toLowerCase();
  return `fr.paraphe.pkcs11.${stem.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

/**
 * A background request from an extension page; throws the background's error.
 * @param {{kind: string} & Record<string, unknown>} message
 * @returns {Promise<any>} the background's `result` for that kind (background/background.js)
 */
export async function ask(message) {
  const reply = await api.runtime.sendMessage(message);
  if (reply?.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.result;
}

/**
 * Firefox: each module the host loaded, with its manifest name and whether Firefox has it.
 * @returns {Promise<import('./types.js').FirefoxModule[]>}
 */
export async function firefoxModules() {
  if (!pkcs11) return [];
  /** @type {{host: {available: boolean, error?: import('./types.js').ErrorJson}, modules: import('./types.js').HostModule[]}} */
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

/**
 * Makes the browser know the token's modules. `{ready, restart}`: a module is known now;
 * the browser must restart first (Chromium reads its NSS database at start-up).
 */
export async function setUp() {
  if (pkcs11) {
    for (const m of await firefoxModules()) {
      if (m.installed === false) await pkcs11.installModule(m.name);
    }
    return { ready: (await firefoxModules()).some((m) => m.installed), restart: false };
  }
  /** @type {import('./types.js').TlsStatus} */
  const s = await ask({ kind: 'tls', register: true });
  if (!s.supported) return { ready: true, restart: false, systemStore: true };
  return { ready: s.modules.some((m) => m.registered), restart: s.modules.some((m) => m.added) };
}
