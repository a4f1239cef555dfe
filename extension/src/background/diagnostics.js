// @ts-check
// « Tester ma carte » (diagnostics/diagnostics.html), background side. Extension pages only:
//   {kind:"diagnostics"}                 → everything the page shows: versions, PC/SC readers
//                                          with ATR and middleware (host `status`), modules,
//                                          tokens and PIN state, certificates decoded by the core
//   {kind:"test-signature", fingerprint} → signs a random SHA-256 digest with that certificate's
//                                          key through the normal path (consent window + PIN,
//                                          signHash); the page verifies it with WebCrypto
import { api, ParapheError } from '../common/api.js';
import { base64 } from '../common/base64.js';
import * as cards from './cards.js';
import * as core from './core.js';
import * as native from './native.js';
import { signHash } from './sign.js';

/**
 * From an extension page (background.js checks): the report, or a test signature.
 * @param {{kind?: unknown, fingerprint?: unknown}} msg
 * @param {chrome.runtime.MessageSender} sender
 */
export async function handle(msg, sender) {
  if (msg.kind === 'test-signature') return testSignature(String(msg.fingerprint ?? ''), sender);
  return report();
}

async function browserInfo() {
  const runtime = /** @type {typeof api.runtime & {getBrowserInfo?: () => Promise<{name: string, version: string}>}} */ (api.runtime);
  if (runtime.getBrowserInfo) {
    const b = await runtime.getBrowserInfo();
    return `${b.name} ${b.version}`;
  }
  /** @type {{brands?: {brand: string, version: string}[]} | undefined} */
  const uaData = /** @type {any} */ (navigator).userAgentData;
  const brands = uaData?.brands?.filter((b) => !/Not.?A.?Brand/i.test(b.brand)) ?? [];
  if (brands.length) return brands.map((b) => `${b.brand} ${b.version}`).join(', ');
  return navigator.userAgent;
}

async function report() {
  /** @type {Record<string, any>} */
  const out = {
    extension: { version: api.runtime.getManifest().version, protocol: core.protocolVersion() },
    browser: await browserInfo(),
    platform: (await api.runtime.getPlatformInfo?.())?.os ?? null,
    host: { available: false },
    pcsc: null,
    modules: [],
    tokens: [],
    certificates: [],
  };
  let hello;
  try {
    hello = await native.helloInfo();
  } catch (e) {
    out.host.error = ParapheError.from(e).toJSON();
    return out;
  }
  out.host = { available: true, version: hello.version, protocol: hello.protocol, os: hello.os };
  // Right after a card comes back, OpenSC may still answer for the card it lost: ask again once.
  const again = async (/** @type {string} */ command) => {
    try {
      return await native.call(command, {});
    } catch (e) {
      if (!['TOKEN_NOT_PRESENT', 'SESSION_NOT_FOUND'].includes(ParapheError.from(e).code)) throw e;
      await new Promise((r) => setTimeout(r, 700));
      return native.call(command, {});
    }
  };
  /** @type {import('../common/types.js').HostStatus} */
  const status = await again('status');
  // Older hosts have no `pcsc` in `status`: fall back on what the card events said.
  out.pcsc = status.pcsc ?? { ...cards.current().pcsc, readers: cards.current().readers, fromEvents: true };
  out.modules = status.modules;
  out.tokens = status.tokens;
  if (status.modules.some((m) => m.loaded)) {
    try {
      /** @type {import('../common/types.js').HostCertificateList} */
      const list = await again('list-certificates');
      const choices = await core.certificateChoices(list, 'any');
      out.tokens = list.tokens;
      out.certificates = choices.map((c) => {
        const token = list.tokens.find((t) => t.id === c.token);
        return { ...c, tokenSlot: token?.slotDescription ?? null, pinPad: !!token?.protectedAuthenticationPath };
      });
    } catch (e) {
      out.error = ParapheError.from(e).toJSON(); // readers and modules are still worth showing
    }
  }
  return out;
}

const hex = (/** @type {ArrayBuffer} */ bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The same consent and signing path as pages (sign.js).
 * @param {string} fingerprint @param {chrome.runtime.MessageSender} sender
 */
async function testSignature(fingerprint, sender) {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new ParapheError('INVALID_REQUEST', 'fingerprint: 64 lowercase hex digits');
  // The SHA-256 of random bytes: nothing meaningful is signed, and the page gets the bytes
  // so that WebCrypto, which hashes what it verifies, can check the signature.
  // Raw ECDSA (r‖s) is what WebCrypto verifies.
  const data = crypto.getRandomValues(new Uint8Array(32));
  const digest = hex(await crypto.subtle.digest('SHA-256', data));
  const request = /** @type {import('./core.js').SignHashRequest} */ (core.validateRequest(JSON.stringify({
    type: 'signHash',
    hashes: [{ digest, hashAlgorithm: 'sha256', name: api.i18n.getMessage('diagTestDocumentName') || 'test' }],
    certificate: fingerprint,
    ecdsaEncoding: 'raw',
  })));
  const origin = api.runtime.getURL('').replace(/\/$/, ''); // the extension itself asks
  // The digest is the extension's own (random bytes), not a page's: dual-use keys may sign it.
  const result = await signHash(request, origin, sender, undefined, { ownDigests: true });
  return { data: base64(data), digest, ...result };
}
