#!/usr/bin/env bash
# Paraphe for one user on Linux (and macOS), without root: the host binary in
# ~/.local/lib/paraphe/ (macOS: ~/Library/Application Support/Paraphe/), the host manifest for
# every browser found (Chromium, Google Chrome, Microsoft Edge, Brave, Vivaldi, Firefox), and
# Firefox PKCS#11 module manifests for the smart-card middleware the host knows and finds
# installed; on Linux the same middleware goes into Chromium's NSS database (~/.pki/nssdb,
# with NSS modutil, when both exist) for TLS client authentication. Every file and folder it
# creates, and every NSS module it adds, is recorded in installed-files beside the host;
# uninstall.sh (copied there too) removes exactly those. Bash 3.2 and BSD tools suffice.
#
#   install.sh [--host-bin PATH] [--browsers LIST|all] [--no-pkcs11]
#     --host-bin   the paraphe-host to install (default: ./paraphe-host beside this script,
#                  else target/release/paraphe-host of the source tree)
#     --browsers   comma-separated: chromium,chrome,edge,brave,vivaldi,firefox (default: those
#                  found: profile folder or command present)
#     --no-pkcs11  no Firefox PKCS#11 module manifests, nothing added to the NSS database
# Running it again replaces the previous installation. Snap and Flatpak browsers are not
# covered (their sandbox cannot start a host from the home folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[paraphe] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

host_src="" browsers="" pkcs11=1
while [ $# -gt 0 ]; do
  case $1 in
    --host-bin) host_src=${2:?--host-bin needs a path}; shift 2 ;;
    --browsers) browsers=${2:?--browsers needs a list}; shift 2 ;;
    --no-pkcs11) pkcs11=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ "$(id -u)" -ne 0 ] || log "warning: running as root installs for root only; the packages are the system-wide install"
if [ -z "${HOME:-}" ] || [ ! -d "$HOME" ]; then die "HOME is not a folder"; fi

gen=""
for g in "$here/manifests/generate.sh" "$here/../../manifests/generate.sh"; do
  if [ -f "$g" ]; then gen=$g; break; fi
done
[ -n "$gen" ] || die "manifests/generate.sh not found beside this script"
if [ -z "$host_src" ]; then
  for h in "$here/paraphe-host" "$here/../../target/release/paraphe-host"; do
    if [ -x "$h" ]; then host_src=$h; break; fi
  done
fi
if [ -z "$host_src" ] || [ ! -x "$host_src" ]; then die "no paraphe-host binary (use --host-bin PATH)"; fi

case $(uname -s) in
  Darwin) os=macos; libdir="$HOME/Library/Application Support/Paraphe" ;;
  *) os=linux; libdir=$HOME/.local/lib/paraphe ;;
esac
record=$libdir/installed-files
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
if [ -f "$record" ]; then
  log "replacing the previous installation"
  "$here/uninstall.sh" --quiet
fi

# --- recording -------------------------------------------------------------------------
# Lines: "d<TAB>-<TAB>folder" for each folder created (parents first) and
# "f<TAB>sha256<TAB>file" for each file written, appended as they happen, so that even an
# interrupted install can be undone.
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$record"; }
created="" # folders created by the current mkdirs, recorded once the record's folder exists
mkdirs() { # create $1 and its missing parents, recording each one created (parents first)
  mkdirs_ "$1"
  [ -z "$created" ] || printf '%s' "$created" >> "$record"
  created=""
}
mkdirs_() {
  [ -d "$1" ] && return 0
  mkdirs_ "$(dirname "$1")"
  mkdir "$1"
  created="${created}d	-	$1
"
}
put() { # put SRC DEST MODE: atomic copy, recorded
  local src=$1 dest=$2 mode=$3
  mkdirs "$(dirname "$dest")"
  [ -e "$dest" ] && log "replacing $dest"
  cp "$src" "$dest.paraphe-tmp"
  chmod "$mode" "$dest.paraphe-tmp"
  mv -f "$dest.paraphe-tmp" "$dest"
  rec f "$(sha256 "$dest")" "$dest"
  log "wrote $dest"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the uninstaller first, then the host binary ---------------------------------------
mkdirs "$libdir"
cp "$here/uninstall.sh" "$libdir/uninstall.sh.paraphe-tmp"
chmod 755 "$libdir/uninstall.sh.paraphe-tmp"
mv -f "$libdir/uninstall.sh.paraphe-tmp" "$libdir/uninstall.sh"
host=$libdir/paraphe-host
put "$host_src" "$host" 755
"$host" version >/dev/null 2>&1 || die "$host does not run on this machine"

# --- browsers --------------------------------------------------------------------------
apps_of() { # macOS application bundles
  case $1 in
    chromium) echo "Chromium.app" ;;
    chrome) echo "Google Chrome.app" ;;
    edge) echo "Microsoft Edge.app" ;;
    brave) echo "Brave Browser.app" ;;
    vivaldi) echo "Vivaldi.app" ;;
    firefox) echo "Firefox.app" ;;
  esac
}
commands_of() {
  case $1 in
    chromium) echo "chromium chromium-browser" ;;
    chrome) echo "google-chrome google-chrome-stable" ;;
    edge) echo "microsoft-edge microsoft-edge-stable" ;;
    brave) echo "brave-browser brave" ;;
    vivaldi) echo "vivaldi vivaldi-stable" ;;
    firefox) echo "firefox firefox-esr" ;;
  esac
}
wanted() { # wanted BROWSER PLACE: chosen by --browsers, or found
  local b=$1 place=$2 c
  case ",$browsers," in
    ,all,) return 0 ;;
    ,,) ;;
    *",$b,"*) return 0 ;;
    *) return 1 ;;
  esac
  # The profile folder that holds NativeMessagingHosts (or ~/.mozilla), or the program.
  [ -d "$(dirname "$place")" ] && return 0
  if [ "$os" = macos ]; then
    c=$(apps_of "$b")
    [ -d "/Applications/$c" ] || [ -d "$HOME/Applications/$c" ]
    return
  fi
  for c in $(commands_of "$b"); do command -v "$c" >/dev/null 2>&1 && return 0; done
  return 1
}
if [ -n "$browsers" ] && [ "$browsers" != all ]; then
  for b in ${browsers//,/ }; do
    [ -n "$(commands_of "$b")" ] || die "unknown browser $b"
  done
fi

firefox_pkcs11_dir=""
written=0
while IFS='	' read -r browser family kind _when place; do
  [ "$kind" = dir ] || continue
  wanted "$browser" "$place" || continue
  if [ "$family" = pkcs11 ]; then firefox_pkcs11_dir=$place; continue; fi
  sh "$gen" manifest "$family" "$host" > "$tmp/manifest.json"
  put "$tmp/manifest.json" "$place/fr.paraphe.host.json" 644
  written=$((written + 1))
done < <(sh "$gen" places "$os" user)
[ "$written" -gt 0 ] || log "warning: no browser found; use --browsers (e.g. --browsers chromium,firefox)"

# --- Firefox PKCS#11 modules: the middleware the host knows and finds installed ----------
found=0
if [ "$pkcs11" = 1 ]; then
  if sh "$gen" middleware "$host" > "$tmp/found"; then
    found=1
  else
    log "warning: no PKCS#11 module registered in the browsers (see above)"
  fi
fi
if [ "$found" = 1 ] && [ -n "$firefox_pkcs11_dir" ]; then
  while IFS='	' read -r path name; do
    sh "$gen" pkcs11 "$path" "$name" > "$tmp/module.json"
    put "$tmp/module.json" "$firefox_pkcs11_dir/$(sh "$gen" pkcs11-name "$path").json" 644
  done < "$tmp/found"
fi

# --- Chromium family (Linux): the same middleware in the user's NSS database ---------------
# Chromium, Chrome, Edge, Brave and Vivaldi offer a token's certificates to portals asking for
# a TLS client certificate when its module is in ~/.pki/nssdb. Only into a database Chromium
# already made (at its first start); otherwise the extension's options page (host command
# tls-register) does it later. Each module added is recorded ("n", name, database).
nssdb=$HOME/.pki/nssdb
if [ "$found" = 1 ] && [ "$os" = linux ]; then
  if [ ! -f "$nssdb/pkcs11.txt" ]; then
    log "no NSS database $nssdb yet: for TLS client authentication in Chromium, use the button of the extension's options page"
  elif ! command -v modutil >/dev/null 2>&1; then
    log "warning: modutil not found (package libnss3-tools or nss-tools): card modules not registered for Chromium"
  else
    while IFS='	' read -r path _name; do
      if grep -qxF "library=$path" "$nssdb/pkcs11.txt"; then
        log "already in $nssdb: $path"
        continue
      fi
      nss_name=$(sh "$gen" pkcs11-name "$path")
      if modutil -dbdir "sql:$nssdb" -add "$nss_name" -libfile "$path" -force > "$tmp/modutil.log" 2>&1; then
        rec n "$nss_name" "$nssdb"
        log "registered $path in $nssdb as $nss_name (restart Chromium to use it)"
      else
        log "warning: modutil could not register $path: $(tr '\n' ' ' < "$tmp/modutil.log")"
      fi
    done < "$tmp/found"
  fi
fi

log "installed; to remove: $libdir/uninstall.sh"
