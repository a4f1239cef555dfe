// Options: the sites the person allowed to read their certificates and token labels
// (background/disclosure.js). Each can be taken off the list; a site asks again next time.
import { api, t } from '../common/api.js';

const KEY = 'certificateListOrigins'; // disclosure.js CERTIFICATE_ORIGINS
const list = document.getElementById('certificate-sites');

async function render() {
  const { [KEY]: stored } = await api.storage.local.get(KEY);
  const origins = Array.isArray(stored) ? stored : [];
  list.replaceChildren();
  for (const origin of origins) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = origin;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'certificate-site-remove';
    remove.dataset.origin = origin;
    remove.textContent = t('optionsLibersignRemove');
    remove.addEventListener('click', () => api.storage.local.set({ [KEY]: origins.filter((o) => o !== origin) }));
    li.append(code, ' ', remove);
    list.append(li);
  }
  if (origins.length === 0) {
    const li = document.createElement('li');
    li.textContent = t('optionsCertificateSitesNone');
    list.append(li);
  }
}

api.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && KEY in changes) render();
});
render();
