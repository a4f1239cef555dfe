// Progress of a pli being opened, in the consent window that unwrapped its key: the window
// stays open until the whole pli is decrypted and checked, then says whether it opened.
import { api, t } from '../common/api.js';

export function pliProgress(msg) {
  document.getElementById('main').hidden = true;
  const status = document.getElementById('status');
  status.hidden = false;
  let bar = document.getElementById('pli-progress');
  if (!bar) {
    bar = document.createElement('progress');
    bar.id = 'pli-progress';
    bar.max = 1;
    status.after(bar);
  }
  if (msg.type === 'progress') {
    const fraction = msg.total > 0 ? Math.min(1, msg.done / msg.total) : 0;
    bar.value = fraction;
    status.className = 'notice';
    status.textContent = t('pliProgress', Math.floor(fraction * 100));
  } else if (msg.error) {
    bar.remove();
    status.className = 'error';
    status.textContent = api.i18n.getMessage(`error_${msg.error.code}`) || t('errorGeneric', msg.error.code);
  } else {
    bar.value = 1;
    status.className = 'notice';
    status.textContent = t('pliDone');
  }
}
