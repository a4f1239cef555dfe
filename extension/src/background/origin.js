// @ts-check
// The one check for web pages: which origin a message or port comes from, as the browser knows
// it, and whether that origin may use Paraphe (https, or loopback http for developers). Every
// way in from a web page goes through `webPageOrigin`: the page API, its hashing port, the
// `data-paraphe-*` markup (which speaks the page API), Web eID, LiberSign and plis.
//
// An opaque origin is refused, never replaced by the URL's: a document served with
// `Content-Security-Policy: sandbox`, an `<iframe sandbox>`, a data: or blob: frame has the
// URL of the site but not its authority, and must not get login tokens or signatures in the
// site's name (docs/SECURITY.md, « Opaque origins »).
//
// Where the origin comes from:
//   - `sender.origin`, the browser's own word (Chromium; Firefox since 126): "null" = opaque.
//   - Without it (an older Firefox), the URL's origin is used only if the content script's
//     own report (`frameOrigin`, `self.origin` read in the isolated world, which the page
//     cannot rewrite) is that same origin; a report of "null", or none, is refused.
import { api, ParapheError } from '../common/api.js';
import * as core from './core.js';
import { ready } from './core.js';
import { settings } from './settings.js';

/** @typedef {chrome.runtime.MessageSender | undefined} Sender a runtime message's or port's sender */

/**
 * From a tab's frame, not one of this extension's pages.
 * @param {Sender} sender
 * @returns {sender is chrome.runtime.MessageSender & {tab: chrome.tabs.Tab, url: string}}
 */
export const fromPage = (sender) => !!(sender?.tab && sender.url && !sender.url.startsWith(api.runtime.getURL('')));
/** From one of this extension's own pages. @param {Sender} sender */
export const fromExtensionPage = (sender) => !!sender?.url?.startsWith(api.runtime.getURL(''));
/** From the extension frame (frame/frame.js) that a content script put in a web page's tab. @param {Sender} sender */
export const fromExtensionFrame = (sender) => !!(sender?.tab && sender.url?.split('#')[0] === api.runtime.getURL('frame/frame.html'));

/** @param {string | undefined} url undefined: 'null' (new URL throws) */
function urlOrigin(url) {
  try {
    return new URL(/** @type {string} */ (url)).origin;
  } catch {
    return 'null';
  }
}

/**
 * The origin of the frame behind `sender`, or an ORIGIN_NOT_ALLOWED error when it is opaque
 * or cannot be known. `frameOrigin`: what the content script reported (may be undefined).
 * @param {Sender} sender
 * @param {unknown} frameOrigin
 * @returns {string}
 */
export function senderOrigin(sender, frameOrigin) {
  if (frameOrigin === 'null') throw opaque();
  if (typeof sender?.origin === 'string') {
    if (sender.origin === 'null' || sender.origin === '') throw opaque();
    return sender.origin;
  }
  const fromUrl = urlOrigin(sender?.url);
  if (fromUrl === 'null') throw opaque();
  if (frameOrigin !== fromUrl) {
    throw new ParapheError('ORIGIN_NOT_ALLOWED', 'the origin of the requesting frame cannot be known');
  }
  return fromUrl;
}

function opaque() {
  return new ParapheError('ORIGIN_NOT_ALLOWED',
    'a sandboxed document or a data:/blob: frame (opaque origin) may not use Paraphe');
}

/**
 * The origin of a web page that may use Paraphe (https, or loopback http for developers).
 * @param {Sender} sender
 * @param {unknown} frameOrigin what the content script reported
 * @returns {Promise<string>}
 */
export async function webPageOrigin(sender, frameOrigin) {
  await ready;
  if (!fromPage(sender)) throw new ParapheError('ORIGIN_NOT_ALLOWED', 'not from a web page');
  const origin = senderOrigin(sender, frameOrigin);
  core.checkOrigin(origin, (await settings()).allowLoopbackHttp);
  return origin;
}
