// Options page. allowLoopbackHttp is for portal developers: it lets pages served over plain
// http from 127.0.0.1, localhost or [::1] use Paraphe (docs/PAGE-API.md).
import { api, localize } from '../common/api.js';

localize();
const box = document.getElementById('allowLoopbackHttp');
const { allowLoopbackHttp = false } = await api.storage.local.get('allowLoopbackHttp');
box.checked = allowLoopbackHttp;
box.addEventListener('change', async () => {
  await api.storage.local.set({ allowLoopbackHttp: box.checked });
  document.getElementById('saved').hidden = false;
});
