#!/usr/bin/env bash
# The one entry point to pyHanko (PyPI, pinned) for the tests that need an independent PDF
# signer and validator: creates the virtualenv tests/.work/pyhanko-venv when it is missing,
# then runs that venv's Python with the arguments.
#   scripts/pyhanko.sh --ensure                 only create the venv (scripts/setup.sh)
#   scripts/pyhanko.sh -m pyhanko sign validate …   pyHanko's CLI
#   scripts/pyhanko.sh tests/verify/pyhanko_sign.py …
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${PARAPHE_PYHANKO_VENV:-$root/tests/.work/pyhanko-venv}
# Pinned: pyHanko and the certificate validator it is released with.
pins=(pyHanko==0.38.0 pyhanko-certvalidator==0.33.0)

# The venv is made anew when the pins change (its .pins file says what it holds).
current() { [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "${pins[*]}" ]; }
if ! current; then
  mkdir -p "$(dirname "$venv")"
  # One creator at a time (several test files may ask at once).
  exec 9>"$venv.lock"
  flock 9
  if ! current; then
    printf '[pyhanko] creating %s (%s)\n' "$venv" "${pins[*]}" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
    printf '%s\n' "${pins[*]}" > "$venv/.pins"
  fi
  flock -u 9
  exec 9>&-
fi
[ "${1:-}" = --ensure ] && exit 0
exec "$venv/bin/python" "$@"
