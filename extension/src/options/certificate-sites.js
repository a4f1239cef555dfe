// @ts-check
// Options: the sites the person allowed to read their certificates and token labels
// (background/disclosure.js). Each can be taken off the list; a site asks again next time.
import * as store from '../common/store.js';
import { renderOrigins } from './origin-list.js';

const KEY = /** @type {const} */ ('certificateListOrigins'); // disclosure.js CERTIFICATE_ORIGINS
const list = document.getElementById('certificate-sites');

async function render() {
  const { [KEY]: origins = [] } = await store.get([KEY]);
  renderOrigins(list, {
    user: origins,
    removeClass: 'certificate-site-remove',
    noneKey: 'optionsCertificateSitesNone',
    remove: (/** @type {string} */ origin) => store.updateList(KEY, origin, false),
  });
}

store.onChanged((keys) => {
  if (keys.includes(KEY)) render();
});
render();
