// @ts-check
// Options: the sites allowed to use the LiberSign-compatible interface (docs/LIBERSIGN.md).
// The person's list is `libersignOrigins` in common/store.js; the administrator's (policy,
// storage.managed) is shown read-only. The background registers the page scripts for both
// as soon as the list changes.
import { $ } from '../common/api.js';
import * as store from '../common/store.js';
import { LIBERSIGN_ORIGINS, libersignOrigins, normalizeOrigin, setLibersignOrigin } from '../common/allowlist.js';
import { renderOrigins } from './origin-list.js';


async function render() {
  const { user, managed } = await libersignOrigins();
  renderOrigins($('libersign-origins'), {
    user,
    managed,
    removeClass: 'libersign-remove',
    noneKey: 'optionsLibersignNone',
    remove: (/** @type {string} */ origin) => setLibersignOrigin(origin, false),
  });
}

$('libersign-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('libersign-origin');
  const origin = normalizeOrigin(input.value);
  $('libersign-invalid').hidden = origin !== null;
  if (!origin) return;
  input.value = '';
  await setLibersignOrigin(origin, true);
});

store.onChanged((keys) => {
  if (keys.includes(LIBERSIGN_ORIGINS)) render();
});
render();
