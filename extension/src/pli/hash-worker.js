// @ts-check
// SHA-256 of the plaintext for « Ouvrir un pli » (pli.js), on another thread than the
// decryption: pli/hasher.js posts each piece of plaintext written, this worker feeds the files
// module's streaming Hasher and acknowledges each piece (the page keeps a few in flight, no
// more), then answers {sha256} to {finish: true}.
import { Hasher } from '../pkg/paraphe_files.js';
import { startFilesModule } from '../common/files-module.js';
import { release } from './bulk.js';

const ready = startFilesModule();
/** @type {Hasher | null} */
let hasher = null;
/** To pli/hasher.js, whose document or worker hashes with this one. @type {MessagePort} */
let owner;

/** First, from the document that started this worker: `{port}`, where the hashing is asked for. */
self.onmessage = (/** @type {MessageEvent<any>} */ { data }) => {
  if (!(data?.port instanceof MessagePort)) return;
  self.onmessage = null; // once
  owner = data.port;
  owner.onmessage = onMessage;
};

/** From pli/hasher.js: `{bytes}` (a piece of plaintext) or `{finish: true}`. */
const onMessage = async (/** @type {MessageEvent<{bytes?: Uint8Array, finish?: boolean}>} */ { data }) => {
  try {
    await ready; // messages wait in order: the same promise resumes them first in, first out
    hasher ??= new Hasher('sha256');
    if (data.bytes) {
      hasher.update(data.bytes);
      release(data.bytes); // ours (a copy or handed over): its memory can go now
      owner.postMessage({ ack: true });
    } else if (data.finish) {
      const sha256 = hasher.finish();
      hasher = null;
      owner.postMessage({ sha256 });
    }
  } catch (e) {
    owner.postMessage({ error: String(e?.message ?? e) });
  }
};
