// Options: the sites allowed to use the LiberSign-compatible interface (docs/LIBERSIGN.md).
// The person's list is storage.local `libersignOrigins`; the administrator's (policy,
// storage.managed) is shown read-only. The background registers the page scripts for both
// as soon as storage changes.
import { api, t } from '../common/api.js';
import { LIBERSIGN_ORIGINS, libersignOrigins, normalizeOrigin } from '../common/allowlist.js';

const $ = (id) => document.getElementById(id);

async function render() {
  const { user, managed } = await libersignOrigins();
  const list = $('libersign-origins');
  list.replaceChildren();
  for (const origin of managed) {
    const li = document.createElement('li');
    li.textContent = `${origin} (${t('optionsLibersignManaged')})`;
    list.append(li);
  }
  for (const origin of user.filter((o) => !managed.includes(o))) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = origin;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'libersign-remove';
    remove.dataset.origin = origin;
    remove.textContent = t('optionsLibersignRemove');
    remove.addEventListener('click', () => save(user.filter((o) => o !== origin)));
    li.append(code, ' ', remove);
    list.append(li);
  }
  if (list.childElementCount === 0) {
    const li = document.createElement('li');
    li.textContent = t('optionsLibersignNone');
    list.append(li);
  }
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
