#!/usr/bin/env bash
# The one entry point to the XAdES XSDs the tests validate jetons against: ETSI's XAdES 1.3.2
# schema (XAdES01903v132-201601.xsd, ETSI EN 319 132-1) and the W3C XML-DSig schema it imports
# (xmldsig-core-schema.xsd). Neither is on this machine nor in a Debian package; both ship
# unchanged in the signxml wheel (PyPI, pinned below, checked by SHA-256). The wheel is fetched
# into tests/.work/xades-xsd when missing (never committed: the ETSI file carries no licence
# notice of its own) and the path of one schema is printed:
#   scripts/xades-xsd.sh             the XAdES 1.3.2 schema (it imports xmldsig-core by a relative path)
#   scripts/xades-xsd.sh --xmldsig   the XML-DSig core schema alone
#   scripts/xades-xsd.sh --ensure    only fetch (scripts/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${PARAPHE_XADES_XSD_DIR:-$root/tests/.work/xades-xsd}
wheel=signxml-5.2.0-py3-none-any.whl
wheel_sha256=47667e55d3bf974ba69cbc489610890d27052d4584a29c3d29e7cf578d50a429
xades=signxml/xades/schemas/XAdES01903v132-201601.xsd
xades_sha256=61a954b9cb102689576589da7c12341abb2c0e18ded1d1103e0231737b20f32f
xmldsig=signxml/schemas/xmldsig-core-schema.xsd
xmldsig_sha256=35cf8197da812c85e40d57891b35c94187569ed474a2dac813ce5090dafcd35c

current() {
  [ -f "$dir/$xades" ] && [ -f "$dir/$xmldsig" ] &&
    printf '%s  %s\n%s  %s\n' "$xades_sha256" "$dir/$xades" "$xmldsig_sha256" "$dir/$xmldsig" | sha256sum -c --status
}
if ! current; then
  mkdir -p "$dir"
  # One fetcher at a time (several tests may ask at once).
  exec 9>"$dir.lock"
  flock 9
  if ! current; then
    printf '[xades-xsd] fetching %s into %s\n' "$wheel" "$dir" >&2
    tmp=$(mktemp -d "$dir.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # pip only downloads (nothing is installed); a bare venv supplies pip where python3 has none.
    pip=(python3 -m pip)
    if ! python3 -m pip --version >/dev/null 2>&1; then
      python3 -m venv "$tmp/venv"
      pip=("$tmp/venv/bin/python" -m pip)
    fi
    "${pip[@]}" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      -d "$tmp" "signxml==5.2.0"
    echo "$wheel_sha256  $tmp/$wheel" | sha256sum -c --status ||
      { echo "[xades-xsd] $wheel: unexpected SHA-256" >&2; exit 1; }
    python3 - "$tmp/$wheel" "$dir" "$xades" "$xmldsig" <<'EOF'
import sys, zipfile
wheel, dest, *names = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in names + [n for n in z.namelist() if n.startswith("signxml-5.2.0.dist-info/licenses/")]:
        z.extract(name, dest)
EOF
    current || { echo "[xades-xsd] the schemas in $wheel are not the expected ones" >&2; exit 1; }
  fi
  flock -u 9
  exec 9>&-
fi
case "${1:-}" in
  --ensure) ;;
  --xmldsig) echo "$dir/$xmldsig" ;;
  "") echo "$dir/$xades" ;;
  *) echo "usage: $0 [--ensure|--xmldsig]" >&2; exit 2 ;;
esac
