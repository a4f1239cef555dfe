// @ts-check
// A list of sites on the options page: the administrator's (read-only, marked) then the
// person's, each with a « Retirer » button, or « none » when empty.
import { t } from '../common/api.js';

/**
 * Fills `list` (a <ul>). `remove(origin)` takes one of the person's sites off; the buttons
 * get `removeClass` and `data-origin` (the tests find them so).
 * @param {HTMLElement} list
 * @param {{user: string[], managed?: string[], removeClass: string, noneKey: string, remove: (origin: string) => unknown}} sites
 */
export function renderOrigins(list, { user, managed = [], removeClass, noneKey, remove }) {
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
    const button = document.createElement('button');
    button.type = 'button';
    button.className = removeClass;
    button.dataset.origin = origin;
    button.textContent = t('optionsLibersignRemove');
    button.addEventListener('click', () => remove(origin));
    li.append(code, ' ', button);
    list.append(li);
  }
  if (list.childElementCount === 0) {
    const li = document.createElement('li');
    li.textContent = t(noneKey);
    list.append(li);
  }
}
