// @ts-check
// SHA-256 of the plaintext for « Ouvrir un pli » (pli.js), on another thread than the
// decryption: pli/hasher.js posts each piece of plaintext written, this worker feeds the files
// module's streaming Hasher and acknowledges each piece (the page keeps a few in flight, no
// more), then answers {sha256} to {finish: true}.
import { Hasher } from '../pkg/paraphe_files.js';
import { startFilesModule } from '../common/files-module.js';
import { release } from './bulk.js';
import { workerLink } from './link.js';

const ready = startFilesModule();
/** @type {Hasher | null} */
let hasher = null;

/** From pli/hasher.js: `{bytes}` (a piece of plaintext) or `{finish: true}`. */
const onMessage = async (/** @type {{data: {bytes?: Uint8Array, finish?: boolean}}} */ { data }) => {
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

/**
 * To pli/hasher.js, whose document (pli.js) or worker (writer-worker.js, through the
 * document: pli/link.js) hashes with this one.
 */
const owner = workerLink('owner');
owner.onmessage = onMessage;
