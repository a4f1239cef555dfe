// @ts-check
// The origins allowed to use the LiberSign-compatible interface (docs/LIBERSIGN.md): the
// person's list in the options (common/store.js, where content scripts cannot write) and the
// administrator's in policy (storage.managed). Empty by default: the interface exists on no
// site until someone adds it.
import { api } from './api.js';
import * as store from './store.js';

export { normalizeOrigin } from './store.js';
export const LIBERSIGN_ORIGINS = 'libersignOrigins';

/**
 * @param {unknown} list a policy value
 * @returns {string[]}
 */
function clean(list) {
  return Array.isArray(list) ? [...new Set(list.map(store.normalizeOrigin).filter((o) => o !== null))] : [];
}

/**
 * `{user, managed}` lists of normalized origins (`managed: false`: the person's only).
 * @param {{managed?: boolean}} [options]
 * @returns {Promise<{user: string[], managed: string[]}>}
 */
export async function libersignOrigins({ managed: withPolicy = true } = {}) {
  const { [LIBERSIGN_ORIGINS]: user } = await store.get([LIBERSIGN_ORIGINS]);
  let managed;
  try {
    if (withPolicy) ({ [LIBERSIGN_ORIGINS]: managed } = await api.storage.managed.get(LIBERSIGN_ORIGINS));
  } catch {
    // No policy (Firefox rejects when no managed-storage manifest is installed).
  }
  return { user: user ?? [], managed: clean(managed) };
}

/**
 * Adds `origin` (normalized) to the person's list, or takes it off.
 * @param {string} origin
 * @param {boolean} allowed
 */
export function setLibersignOrigin(origin, allowed) {
  return store.updateList(LIBERSIGN_ORIGINS, origin, allowed);
}
