// @ts-check
// Progress of the work that follows consent, in the same window: the documents of a batch
// signed so far, or the bytes of a pli decrypted so far. The window stays open until the
// work ends, then says how it ended.
import { api, t } from '../common/api.js';

/**
 * `msg`: {type: "progress", done, total} or {type: "progress-end", error?}. `kind`: the view's.
 * @param {import('../common/types.js').ProgressMessage} msg
 * @param {string | undefined} kind
 */
export function showProgress(msg, kind) {
  document.getElementById('main').hidden = true;
  const status = document.getElementById('status');
  status.hidden = false;
  let bar = /** @type {HTMLProgressElement} */ (document.getElementById('work-progress'));
  if (!bar) {
    bar = document.createElement('progress');
    bar.id = 'work-progress';
    bar.max = 1;
    status.after(bar);
  }
  if (msg.type === 'progress') {
    const fraction = msg.total > 0 ? Math.min(1, msg.done / msg.total) : 0;
    bar.value = fraction;
    status.className = 'notice';
    status.textContent = kind === 'decrypt'
      ? t('pliProgress', Math.floor(fraction * 100))
      : t('signProgress', msg.done, msg.total);
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
