// Options: the sites allowed to use the LiberSign-compatible interface (docs/LIBERSIGN.md).
// The person's list is storage.local `libersignOrigins`; the administrator's (policy,
// storage.managed) is shown read-only. The background registers the page scripts for both
// as soon as storage changes.
import { api } from '../common/api.js';
import { LIBERSIGN_ORIGINS, libersignOrigins, normalizeOrigin } from '../common/allowlist.js';
import { renderOrigins } from './origin-list.js';

const $ = (id) => document.getElementById(id);

async function render() {
  const { user, managed } = await libersignOrigins();
  renderOrigins($('libersign-origins'), {
    user,
    managed,
    removeClass: 'libersign-remove',
    noneKey: 'optionsLibersignNone',
    remove: (origin) => save(user.filter((o) => o !== origin)),
  });
}

async function save(origins) {
  await api.storage.local.set({ [LIBERSIGN_ORIGINS]: origins });
  await render();
}

$('libersign-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('libersign-origin');
  const origin = normalizeOrigin(input.value);
  $('libersign-invalid').hidden = origin !== null;
  if (!origin) return;
  const { user } = await libersignOrigins();
  input.value = '';
  await save([...new Set([...user, origin])]);
});

api.storage.onChanged.addListener((changes) => {
  if (LIBERSIGN_ORIGINS in changes) render();
});
render();
