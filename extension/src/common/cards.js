// @ts-check
// Live readers and cards for extension pages (popup, « Tester ma carte », consent window):
// a runtime port named `cards` to the background (background/cards.js), which forwards the
// host's PC/SC events as they come. No polling.
import { api, t } from './api.js';

/** @typedef {import('./types.js').CardsState} CardsState */
/** @typedef {{event: string, data: import('./types.js').EventData}} CardEvent */

/**
 * Connects and calls `onUpdate(state, event)` with the whole state each time it changes;
 * `event` is `{event, data}` for a card event, null for a full state or a reader or card a
 * new host process reports again (nothing happened). `onError(error)` when
 * the host cannot be reached. Returns the port.
 */
/**
 * @param {(state: CardsState, news: CardEvent | null) => void} onUpdate
 * @param {(error: import('./types.js').ErrorJson) => void} [onError]
 */
export function watchCards(onUpdate, onError = () => {}) {
  const port = api.runtime.connect({ name: 'cards' });
  port.onMessage.addListener((msg) => {
    if (msg?.type === 'state') onUpdate(msg.state, null);
    else if (msg?.type === 'event') onUpdate(msg.state, msg.initial ? null : { event: msg.event, data: msg.data });
    else if (msg?.type === 'error') onError(msg.error);
  });
  return port;
}

/**
 * One line about a card event (« Carte retirée du lecteur X »), or null.
 * @param {CardEvent} news
 * @returns {string | null}
 */
export function eventText({ event, data }) {
  switch (event) {
    case 'card-inserted': return t('cardEventInserted', data.reader);
    case 'card-removed': return t('cardEventRemoved', data.reader);
    case 'reader-added': return t('cardEventReaderAdded', data.reader);
    case 'reader-removed': return t('cardEventReaderRemoved', data.reader);
    case 'pcsc-unavailable': return t('cardsPcscUnavailable', data.message ?? '');
    default: return null;
  }
}

/**
 * What a reader holds, in words: the card, its middleware, and what to install when missing.
 * @param {import('./types.js').Reader} r
 * @returns {string}
 */
export function readerText(r) {
  if (!r.present) return `${r.reader} — ${t('cardsEmpty')}`;
  const m = r.middleware;
  let text = `${r.reader} — ${t('cardsPresent')} ${r.card ?? t('cardsUnknownCard')}`;
  if (m) text += ` (${m.name})`;
  if (m && !m.installed) text += ` — ${t('cardsMiddlewareMissing', m.install)}`;
  return text;
}
