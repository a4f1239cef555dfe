// @ts-check
// The consent window's one-line card status (« Carte retirée du lecteur X »), live from the
// host's PC/SC events (background/cards.js). Kept apart from consent.js: it only shows a line
// and never touches the consent conversation.
import { eventText, watchCards } from '../common/cards.js';

const line = document.getElementById('card-status');

watchCards((state, event) => {
  if (!line || !event) return;
  const text = eventText(event);
  if (!text) return;
  line.textContent = text;
  line.className = event.event === 'card-inserted' || event.event === 'reader-added' ? 'notice' : 'warning';
  line.hidden = false;
});
