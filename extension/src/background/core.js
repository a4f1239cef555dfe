// Loads the WASM core. A module service worker may not use dynamic import(), so the
// wasm-bindgen `--target web` glue is imported statically and only instantiation is async.
import init, * as wasm from '../pkg/paraphe_wasm.js';
import { api } from '../common/api.js';

export const ready = init({ module_or_path: api.runtime.getURL('pkg/paraphe_wasm_bg.wasm') });
let loaded = false;
ready.then(() => { loaded = true; });

/** The core's exports; only valid after `await ready`. */
export function core() {
  if (!loaded) throw new Error('WASM core used before it was ready');
  return wasm;
}
