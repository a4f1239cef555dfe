// Options: the radar (docs/RADAR.md) on or off (`radar` in common/store.js; a policy value
// wins and is shown), and the sites where NexU is answered in the page (`nexuOrigins`: the
// person's, enabled from the popup's « Activer Paraphe pour ce site », with « Retirer »; the
// administrator's, read-only).
import { $, api } from '../common/api.js';
import * as store from '../common/store.js';
import { renderOrigins } from './origin-list.js';

/**
 * The administrator's values of `keys` (storage.managed), none without a policy.
 * @param {string[]} keys
 * @returns {Promise<{[key: string]: unknown}>}
 */
async function managed(keys) {
  try {
    return await api.storage.managed.get(keys);
  } catch {
    return {}; // no policy
  }
}

async function render() {
  const policy = await managed(['radar', 'nexuOrigins']);
  const { radar = true, nexuOrigins = [] } = await store.get(['radar', 'nexuOrigins']);
  const box = /** @type {HTMLInputElement} */ ($('radar-on'));
  box.checked = typeof policy.radar === 'boolean' ? policy.radar : radar;
  box.disabled = typeof policy.radar === 'boolean';
  $('radar-managed').hidden = !box.disabled;
  const forced = Array.isArray(policy.nexuOrigins) ? policy.nexuOrigins.map(store.normalizeOrigin).filter((o) => o !== null) : [];
  renderOrigins($('nexu-origins'), {
    user: nexuOrigins,
    managed: forced,
    removeClass: 'nexu-remove',
    noneKey: 'optionsNexuNone',
    remove: (/** @type {string} */ origin) => store.updateList('nexuOrigins', origin, false),
  });
}

$('radar-on').addEventListener('change', async () => {
  await store.set({ radar: /** @type {HTMLInputElement} */ ($('radar-on')).checked });
  $('saved').hidden = false;
});
store.onChanged((keys) => {
  if (keys.includes('radar') || keys.includes('nexuOrigins')) render();
});
render();
