// Options: the sites the person allowed to read their certificates and token labels
// (background/disclosure.js). Each can be taken off the list; a site asks again next time.
import { api } from '../common/api.js';
import { renderOrigins } from './origin-list.js';

const KEY = 'certificateListOrigins'; // disclosure.js CERTIFICATE_ORIGINS
const list = document.getElementById('certificate-sites');

async function render() {
  const { [KEY]: stored } = await api.storage.local.get(KEY);
  const origins = Array.isArray(stored) ? stored : [];
  renderOrigins(list, {
    user: origins,
    removeClass: 'certificate-site-remove',
    noneKey: 'optionsCertificateSitesNone',
    remove: (origin) => api.storage.local.set({ [KEY]: origins.filter((o) => o !== origin) }),
  });
}

api.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && KEY in changes) render();
});
render();
