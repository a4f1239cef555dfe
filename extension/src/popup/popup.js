// Toolbar popup: is the host reachable (and how to fix it when not), which tokens and
// certificates are there, which certificates expire soon.
import { api, localize, t } from '../common/api.js';

const $ = (id) => document.getElementById(id);
localize();
$('options').addEventListener('click', (ev) => {
  ev.preventDefault();
  api.runtime.openOptionsPage();
});

const reply = await api.runtime.sendMessage({ kind: 'status' });
const s = reply?.result;
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
  if (s.certificates.length > 0) $('certs-section').hidden = false;
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
