// Extension options (storage.local). Only one so far, for portal developers:
//   allowLoopbackHttp: accept pages served over plain http from 127.0.0.1, localhost or
//   [::1]. Off by default; see docs/PAGE-API.md.
import { api } from '../common/api.js';

const DEFAULTS = { allowLoopbackHttp: false };

export async function settings() {
  const stored = await api.storage.local.get(Object.keys(DEFAULTS));
  return { ...DEFAULTS, ...stored };
}
