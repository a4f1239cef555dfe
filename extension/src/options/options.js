// @ts-check
// Options page: the PIN session (how long the card stays unlocked after a consent, see
// background/sessions.js), the time-stamp authority (`timestampUrl`: CAdES and PAdES at
// baseline B-T, background/timestamp.js) and, for portal developers, allowLoopbackHttp: pages served over
// plain http from 127.0.0.1, localhost or [::1] may use Paraphe (docs/PAGE-API.md). A value
// the administrator set in policy (storage.managed) is shown and cannot be changed here. The
// person's values are in common/store.js (where content scripts cannot write them).
import { $, api, localize } from '../common/api.js';
import * as store from '../common/store.js';

localize();

/**
 * The administrator's value of `key` (storage.managed), null without one.
 * @param {string} key
 * @returns {Promise<unknown>}
 */
async function managed(key) {
  try {
    const value = (await api.storage.managed.get(key))[key];
    return value === undefined ? null : value;
  } catch {
    return null; // no policy
  }
}

const saved = () => {
  document.getElementById('saved').hidden = false;
};

const box = $('allowLoopbackHttp');
const forcedLoopback = await managed('allowLoopbackHttp');
const { allowLoopbackHttp = false, pinSessionMinutes = 0 } = await store.get(['allowLoopbackHttp', 'pinSessionMinutes']);
box.checked = typeof forcedLoopback === 'boolean' ? forcedLoopback : allowLoopbackHttp;
box.disabled = typeof forcedLoopback === 'boolean';
box.addEventListener('change', async () => {
  await store.set({ allowLoopbackHttp: box.checked });
  saved();
});

const minutes = $('pinSessionMinutes');
const forcedMinutes = await managed('pinSessionMinutes');
minutes.value = String(Number.isInteger(forcedMinutes) ? forcedMinutes : pinSessionMinutes);
minutes.disabled = Number.isInteger(forcedMinutes);
document.getElementById('pinSessionManaged').hidden = !minutes.disabled;
minutes.addEventListener('change', async () => {
  const value = Math.trunc(Number(minutes.value));
  if (!Number.isInteger(value) || value < 0 || value > 480) {
    minutes.value = String(pinSessionMinutes);
    return;
  }
  await store.set({ pinSessionMinutes: value });
  saved();
});

const tsa = $('timestampUrl');
const forcedTsa = await managed('timestampUrl');
const { timestampUrl = '' } = await store.get(['timestampUrl']);
tsa.value = typeof forcedTsa === 'string' ? forcedTsa : timestampUrl;
tsa.disabled = typeof forcedTsa === 'string';
document.getElementById('timestampManaged').hidden = !tsa.disabled;
tsa.addEventListener('change', async () => {
  const value = tsa.value.trim() === '' ? '' : store.normalizeTimestampUrl(tsa.value);
  document.getElementById('timestampInvalid').hidden = value !== null;
  if (value === null) return;
  await store.set({ timestampUrl: value });
  tsa.value = value;
  saved();
});
