// Extension options (storage.local), with the administrator's policy (storage.managed,
// extension/src/managed_schema.json) winning where it sets a value:
//   allowLoopbackHttp: accept pages served over plain http from 127.0.0.1, localhost or
//     [::1]. Off by default; for portal developers (docs/PAGE-API.md).
//   pinSessionMinutes: keep the token logged in that long after a consent (0: the PIN is
//     asked for every consent; at most 480). See sessions.js.
import { api } from '../common/api.js';

const DEFAULTS = { allowLoopbackHttp: false, pinSessionMinutes: 0 };
const VALID = {
  allowLoopbackHttp: (v) => typeof v === 'boolean',
  pinSessionMinutes: (v) => Number.isInteger(v) && v >= 0 && v <= 480,
};

async function managed() {
  try {
    return await api.storage.managed.get(Object.keys(DEFAULTS));
  } catch {
    return {}; // no policy (Firefox rejects when no managed-storage manifest is installed)
  }
}

const valid = (values) => Object.fromEntries(Object.entries(values).filter(([k, v]) => VALID[k]?.(v)));

/** The effective options, and which of them the administrator set (`managed`). */
export async function settings() {
  const [stored, policy] = await Promise.all([api.storage.local.get(Object.keys(DEFAULTS)), managed()]);
  const forced = valid(policy);
  return { ...DEFAULTS, ...valid(stored), ...forced, managed: Object.keys(forced) };
}
