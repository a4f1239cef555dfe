#!/bin/sh
# The one generator of host manifests, used by every installer (Linux per-user and packages,
# macOS package and per-user script, the Windows builds). Templates: fr.paraphe.*.json.in
# beside this script; places: locations.tsv. POSIX sh, no dependencies (runs on macOS too).
#
#   generate.sh manifest chromium|firefox HOST_PATH     host manifest on stdout
#   generate.sh pkcs11 MODULE_PATH DESCRIPTION          Firefox PKCS#11 module manifest on stdout
#   generate.sh pkcs11-name MODULE_PATH                 its name (= file name without .json)
#   generate.sh places OS SCOPE                         browser, family, kind, when, place (tabs),
#                                                       with ~ and $CONFIG expanded
#   generate.sh stage OS SCOPE HOST_PATH DESTROOT       writes the host manifest to every
#                                                       "always" folder under DESTROOT; prints paths
#   generate.sh middleware HOST_BIN                     the smart-card middleware the host knows and
#                                                       finds installed: "path<TAB>name" lines, one
#                                                       per name (needs jq, python3 or macOS osascript)
#   generate.sh markdown                                the table of places, for the docs
#
# HOST_PATH must be absolute on Linux and macOS; on Windows it may be relative to the manifest
# (the MSI ships the manifests next to paraphe-host.exe with "paraphe-host.exe").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
NAME=fr.paraphe.host
TABLE=$here/locations.tsv

die() { printf 'generate.sh: %s\n' "$*" >&2; exit 2; }

json_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# fill TEMPLATE KEY=VALUE...: replaces @KEY@ by VALUE (JSON-escaped), literally.
fill() {
  template=$1
  shift
  [ -f "$template" ] || die "no template $template"
  text=$(cat "$template")
  for kv in "$@"; do
    key=${kv%%=*}
    value=$(json_escape "${kv#*=}")
    text=$(K="@$key@" V="$value" T="$text" awk 'BEGIN {
      t = ENVIRON["T"]; k = ENVIRON["K"]; v = ENVIRON["V"]; out = ""
      while ((i = index(t, k)) > 0) { out = out substr(t, 1, i - 1) v; t = substr(t, i + length(k)) }
      printf "%s", out t }')
  done
  case $text in *@[A-Z_]*@*) die "unfilled placeholder in $template" ;; esac
  printf '%s\n' "$text"
}

# Module file name without directory and extension, as a manifest name part: lower case,
# every run of other characters than [a-z0-9] becomes "_". /usr/lib/x/opensc-pkcs11.so →
# fr.paraphe.pkcs11.opensc_pkcs11. The extension derives the same name from the module path.
pkcs11_name() {
  base=${1##*[/\\]}
  base=${base%.*}
  slug=$(printf '%s' "$base" | LC_ALL=C tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9][^a-z0-9]*/_/g' -e 's/^_//' -e 's/_$//')
  [ -n "$slug" ] || die "cannot name module $1"
  printf 'fr.paraphe.pkcs11.%s\n' "$slug"
}

places() {
  os=$1 scope=$2
  config=${XDG_CONFIG_HOME:-${HOME:-}/.config}
  grep -v '^#' "$TABLE" | while IFS='	' read -r r_os r_scope browser family kind when place; do
    if [ "$r_os" != "$os" ] || [ "$r_scope" != "$scope" ]; then continue; fi
    # shellcheck disable=SC2088,SC2016 # literal markers of locations.tsv, expanded here
    case $place in
      '~/'*) [ -n "${HOME:-}" ] || die "HOME is not set"; place=$HOME/${place#\~/} ;;
      '$CONFIG/'*) place=$config/${place#\$CONFIG/} ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$browser" "$family" "$kind" "$when" "$place"
  done
}

# The host's own list (host/data/middleware.json, with installed flags): `diagnose --json`
# with builtinModules false, so that no module is loaded while listing them.
middleware() {
  work=$(mktemp -d)
  printf '{"builtinModules": false}\n' > "$work/config.json"
  if ! PARAPHE_CONFIG=$work/config.json PARAPHE_LOG=error "$1" diagnose --json > "$work/d.json" 2>/dev/null; then
    rm -rf "$work"
    die "$1 diagnose --json failed"
  fi
  if command -v jq >/dev/null 2>&1; then
    jq -r '.knownMiddleware[] | select(.installed) | "\(.path)\t\(.name)"' "$work/d.json"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json, sys
for m in json.load(open(sys.argv[1]))["knownMiddleware"]:
    if m["installed"]: print(m["path"] + "\t" + m["name"])' "$work/d.json"
  elif [ -x /usr/bin/osascript ]; then
    /usr/bin/osascript -l JavaScript -e 'ObjC.import("Foundation");
function run(argv) {
  var text = $.NSString.stringWithContentsOfFileEncodingError(argv[0], $.NSUTF8StringEncoding, null).js;
  return JSON.parse(text).knownMiddleware.filter(function (m) { return m.installed; })
    .map(function (m) { return m.path + "\t" + m.name; }).join("\n");
}' "$work/d.json"
  else
    rm -rf "$work"
    die "cannot read JSON here (no jq, python3 or osascript)"
  fi > "$work/found"
  # One line per middleware name: a second path of the same library (often a symlink) would
  # only register it twice.
  awk -F '\t' 'NF == 2 && !seen[$2]++' "$work/found"
  rm -rf "$work"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  manifest)
    [ $# -eq 2 ] || die "usage: manifest chromium|firefox HOST_PATH"
    case $1 in chromium | firefox) ;; *) die "unknown family $1" ;; esac
    [ -n "$2" ] || die "empty host path"
    fill "$here/$NAME.$1.json.in" "HOST_PATH=$2"
    ;;
  pkcs11)
    [ $# -eq 2 ] || die "usage: pkcs11 MODULE_PATH DESCRIPTION"
    case $1 in /*) ;; [A-Za-z]:\\*) ;; *) die "module path must be absolute: $1" ;; esac
    fill "$here/fr.paraphe.pkcs11.firefox.json.in" "NAME=$(pkcs11_name "$1")" "DESCRIPTION=$2" "MODULE_PATH=$1"
    ;;
  pkcs11-name)
    [ $# -eq 1 ] || die "usage: pkcs11-name MODULE_PATH"
    pkcs11_name "$1"
    ;;
  places)
    [ $# -eq 2 ] || die "usage: places OS SCOPE"
    places "$1" "$2"
    ;;
  stage)
    [ $# -eq 4 ] || die "usage: stage OS SCOPE HOST_PATH DESTROOT"
    os=$1 scope=$2 host=$3 root=$4
    case $os in windows) die "stage writes folders; Windows uses registry keys (see installers/windows)" ;; esac
    case $host in /*) ;; *) die "host path must be absolute on $os: $host" ;; esac
    places "$os" "$scope" | while IFS='	' read -r browser family kind when place; do
      if [ "$kind" != dir ] || [ "$when" != always ] || [ "$family" = pkcs11 ]; then continue; fi
      mkdir -p "$root$place"
      fill "$here/$NAME.$family.json.in" "HOST_PATH=$host" > "$root$place/$NAME.json"
      printf '%s\n' "$place/$NAME.json"
    done
    ;;
  middleware)
    [ $# -eq 1 ] || die "usage: middleware HOST_BIN"
    middleware "$1"
    ;;
  markdown)
    printf '| OS | scope | browser | family | kind | written | place |\n|---|---|---|---|---|---|---|\n'
    grep -v '^#' "$TABLE" | while IFS='	' read -r os scope browser family kind when place; do
      # shellcheck disable=SC2016 # backquotes are Markdown
      printf '| %s | %s | %s | %s | %s | %s | `%s` |\n' "$os" "$scope" "$browser" "$family" "$kind" "$when" "$place"
    done
    ;;
  *) sed -n '2,/^set -eu/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
