// The origins allowed to use the LiberSign-compatible interface (docs/LIBERSIGN.md): the
// person's list in the options (storage.local) and the administrator's in policy
// (storage.managed). Empty by default: the interface exists on no site until someone adds it.
import { api } from './api.js';

export const LIBERSIGN_ORIGINS = 'libersignOrigins';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `https://host[:port]` (or `http://` on a loopback host) from what a person or a policy
 * wrote, or null. A trailing slash or path is dropped; anything else that is not an origin
 * (credentials, another scheme, a wildcard) is refused.
 */
export function normalizeOrigin(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (url.username || url.password || url.hostname.includes('*')) return null;
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url.origin;
  return null;
}

function clean(list) {
  return Array.isArray(list) ? [...new Set(list.map(normalizeOrigin).filter(Boolean))] : [];
}

/** `{user, managed}` lists of normalized origins. */
export async function libersignOrigins() {
  const { [LIBERSIGN_ORIGINS]: user } = await api.storage.local.get(LIBERSIGN_ORIGINS);
  let managed;
  try {
    ({ [LIBERSIGN_ORIGINS]: managed } = await api.storage.managed.get(LIBERSIGN_ORIGINS));
  } catch {
    // No policy (Firefox rejects when no managed-storage manifest is installed).
  }
  return { user: clean(user), managed: clean(managed) };
}
