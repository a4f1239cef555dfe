// The radar's section of the toolbar popup (docs/RADAR.md): what the current tab's page asked
// of a signing client (background/radar.js), and one action: « Activer Paraphe pour ce site »
// (LiberSign, NexU; the tab reloads), « Préparer le navigateur » then « Réessayer » (TLS
// client authentication), or a plain explanation of what Paraphe cannot answer.
//
// The tab is the active tab of the popup's window; opened as a page (`popup.html?tab=<id>`,
// as the tests do), the tab named there.
import { $, api, t } from '../common/api.js';
import { setUp } from '../common/tls-setup.js';

async function tabId() {
  const named = Number(new URLSearchParams(location.search).get('tab'));
  if (Number.isInteger(named) && named > 0) return named;
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? -1;
}

/**
 * A background request; throws its error.
 * @param {{kind: string} & Record<string, unknown>} message
 * @returns {Promise<any>} the `result` of that kind (background/radar.js)
 */
async function ask(message) {
  const reply = await api.runtime.sendMessage(message);
  if (reply?.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.result;
}

/**
 * @param {string} id
 * @param {string} key the label's message
 * @param {() => Promise<void>} onClick
 */
function button(id, key, onClick) {
  const b = document.createElement('button');
  b.id = id;
  b.type = 'button';
  b.className = 'primary';
  b.textContent = t(key);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onClick();
    } catch (e) {
      say(`${api.i18n.getMessage(`error_${e.code}`) || t('errorGeneric', e.code ?? 'INTERNAL')} ${e.message ?? ''}`, 'error');
      b.disabled = false;
    }
  });
  return b;
}

/** @param {string} text @param {string} [cls] */
function say(text, cls = 'notice') {
  $('radar-state').textContent = text;
  $('radar-state').className = cls;
  $('radar-state').hidden = false;
}

async function show() {
  const tab = await tabId();
  if (tab < 0) return;
  /** @type {import('../common/types.js').RadarView} */
  const view = await ask({ kind: 'radar-view', tabId: tab });
  if (!view.findings.length) return;
  $('radar-origin').textContent = view.origin;
  const list = $('radar-findings');
  list.replaceChildren();
  const actions = $('radar-actions');
  actions.replaceChildren();
  let activate = false;
  for (const f of view.findings) {
    const li = document.createElement('li');
    li.dataset.kind = f.kind;
    li.dataset.status = f.status;
    const name = document.createElement('strong');
    name.textContent = t(`radarKind_${f.kind}`);
    const what = document.createElement('span');
    if (f.status === 'served') what.textContent = t('radarServed');
    else if (f.status === 'activate') what.textContent = t(view.activation ? `radarActivateHelp_${f.kind}` : 'radarForbidden');
    else what.textContent = t(`radarExplain_${f.kind}`);
    li.append(name, ' — ', what);
    if (f.kind === 'tls') {
      const certs = document.createElement('p');
      certs.className = 'certs';
      certs.textContent = view.certificates?.length
        ? t('radarTlsCertificates', view.certificates.map((c) => c.holder).join(', '))
        : t('radarTlsNoCertificate');
      li.append(certs);
    }
    list.append(li);
    if (f.status === 'activate' && view.activation) activate = true;
  }
  if (activate) {
    actions.append(button('radar-activate', 'radarActivate', async () => {
      const { origin } = await ask({ kind: 'radar-activate', tabId: tab });
      say(t('radarActivated', origin));
    }));
  }
  if (view.findings.some((f) => f.kind === 'tls')) {
    actions.append(button('radar-tls-setup', 'radarTlsSetup', async () => {
      const r = await setUp();
      say(t(r.restart ? 'optionsTlsRestart' : r.ready ? 'radarTlsReady' : 'optionsTlsNotReady'), r.ready ? 'notice' : 'warning');
    }), ' ', button('radar-retry', 'radarRetry', async () => {
      await ask({ kind: 'radar-retry', tabId: tab });
      say(t('radarRetried'));
    }));
  }
  $('radar-section').hidden = false;
}

show().catch((e) => console.warn('radar:', e));
