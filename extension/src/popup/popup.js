// @ts-check
// Toolbar popup: is the host reachable (and how to fix it when not), readers and cards live
// (host events through background/cards.js, no polling), which tokens and certificates are
// there, which certificates expire soon; « Oublier le code PIN »; « Tester ma carte ».
import { $, api, localize, t } from '../common/api.js';
import { eventText, readerText, watchCards } from '../common/cards.js';

localize();
$('options').addEventListener('click', (ev) => {
  ev.preventDefault();
  api.runtime.openOptionsPage();
});

async function showStatus() {
  const reply = await api.runtime.sendMessage({ kind: 'status' });
  /** @type {import('../common/types.js').StatusReply | undefined} */
  const s = reply?.result;
  $('tokens').replaceChildren();
  $('certificates').replaceChildren();
  if (!s || !s.host.available) {
    $('host').textContent = t('popupHostMissing');
    $('host').className = 'error';
    $('fix').textContent = s?.host.error?.code === 'HOST_INCOMPATIBLE' ? t('popupHostIncompatible') : t('popupHostFix');
    $('fix').hidden = false;
  } else {
    $('host').textContent = t('popupHostOk', s.host.version);
    $('tokens-section').hidden = false;
    if (s.tokens.length === 0) {
      const li = document.createElement('li');
      li.textContent = t('popupNoToken');
      $('tokens').append(li);
    }
    for (const tok of s.tokens) {
      const li = document.createElement('li');
      li.textContent = `${tok.label} (${tok.manufacturer} ${tok.model})`;
      if (tok.pin?.locked) li.textContent += ` — ${t('error_PIN_LOCKED')}`;
      $('tokens').append(li);
    }
    $('certs-section').hidden = s.certificates.length === 0;
    for (const c of s.certificates) {
      const tr = document.createElement('tr');
      const who = document.createElement('td');
      who.textContent = `${c.holder} — ${c.issuer}`;
      const when = document.createElement('td');
      if (c.expired) {
        when.textContent = t('certExpired');
        when.className = 'error';
      } else {
        when.textContent = t('certExpires', new Date(c.notAfter).toLocaleDateString(), c.daysLeft);
        if (c.expiresSoon) when.className = 'warning';
      }
      tr.append(who, when);
      $('certificates').append(tr);
    }
  }
}

// Readers and cards, live. A card in or out also changes tokens and certificates: ask again,
// once the burst of events has settled.
/** @type {ReturnType<typeof setTimeout> | null} */
let refresh = null;
watchCards((state, event) => {
  renderReaders(state);
  if (event) {
    const text = eventText(event);
    if (text) {
      $('card-notice').textContent = text;
      $('card-notice').hidden = false;
    }
    if (['card-inserted', 'card-removed', 'reader-removed'].includes(event.event)) {
      clearTimeout(refresh);
      refresh = setTimeout(() => showStatus().catch(() => {}), 300);
    }
  }
});

/** @param {import('../common/types.js').CardsState} state */
function renderReaders(state) {
  const list = $('readers');
  list.replaceChildren();
  if (state.pcsc.available === false) {
    const li = document.createElement('li');
    li.textContent = t('cardsPcscUnavailable', state.pcsc.message ?? '');
    li.className = 'warning';
    list.append(li);
  } else if (state.readers.length === 0 && state.pcsc.available) {
    const li = document.createElement('li');
    li.textContent = t('cardsNoReader');
    list.append(li);
  }
  for (const r of state.readers) {
    const li = document.createElement('li');
    li.dataset.reader = r.reader;
    li.dataset.present = String(r.present);
    li.textContent = readerText(r);
    if (r.present && r.middleware && !r.middleware.installed) li.className = 'warning';
    list.append(li);
  }
  $('readers-section').hidden = state.pcsc.available === null && state.readers.length === 0;
}

$('logout-all').addEventListener('click', async () => {
  const out = $('logout-result');
  const reply = await api.runtime.sendMessage({ kind: 'logout-all' }).catch((e) => ({ error: { code: 'INTERNAL', message: String(e) } }));
  if (reply?.error) {
    out.textContent = api.i18n.getMessage(`error_${reply.error.code}`) || t('errorGeneric', reply.error.code);
    out.className = 'error';
  } else {
    const n = typeof reply?.result === 'number' ? reply.result : reply?.result?.count;
    out.textContent = typeof n === 'number' ? t('popupLogoutDoneCount', n) : t('popupLogoutDone');
    out.className = 'notice';
  }
  out.hidden = false;
});

await showStatus();
