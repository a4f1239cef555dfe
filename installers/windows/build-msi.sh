#!/usr/bin/env bash
# Builds the Windows installers on Linux, from installers/windows/paraphe.wxs with wixl (msitools):
#   paraphe-<v>-x64.msi        per machine (administrator): %ProgramFiles%\Paraphe, HKLM, policies
#   paraphe-<v>-x64-user.msi   per user (no administrator rights): %LOCALAPPDATA%\Paraphe, HKCU
# around paraphe-host.exe cross-compiled in release (x86_64-pc-windows-gnu, mingw-w64) and
# stripped, with the two host manifests of manifests/generate.sh (path "paraphe-host.exe",
# relative to the manifest).
#   installers/windows/build-msi.sh [OUT_DIR]     default: dist
#   PARAPHE_HOST_EXE=FILE   package this exe instead of building one
#   PARAPHE_NO_BUILD=1      do not run cargo (use target/x86_64-pc-windows-gnu/release)
# Tools (installers/setup.sh): wixl, msitools (msibuild, msiinfo), gcc-mingw-w64-x86-64, and
# `rustup target add x86_64-pc-windows-gnu`.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[build-msi] %s\n' "$*" >&2; }
root=$PWD
out=${1:-dist}
case $out in /*) ;; *) out=$root/$out ;; esac
version=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)
for tool in wixl msibuild msiinfo x86_64-w64-mingw32-strip; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run installers/setup.sh"; exit 1; }
done

exe=${PARAPHE_HOST_EXE:-}
if [ -z "$exe" ]; then
  target_dir=$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
  exe=$target_dir/x86_64-pc-windows-gnu/release/paraphe-host.exe
  if [ -z "${PARAPHE_NO_BUILD:-}" ]; then
    log "cargo build --release --target x86_64-pc-windows-gnu -p paraphe-host"
    cargo build -q --release --target x86_64-pc-windows-gnu -p paraphe-host
  fi
fi
[ -f "$exe" ] || { log "no $exe"; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
x86_64-w64-mingw32-strip -o "$stage/paraphe-host.exe" "$exe"
mkdir -p "$stage/manifests" "$out"
for family in chromium firefox; do
  sh manifests/generate.sh manifest "$family" paraphe-host.exe > "$stage/manifests/fr.paraphe.host.$family.json"
done

# Components written only when the administrator passes their property (wixl has no
# Component/Condition element: the condition goes into the Component table here).
conditions=(
  ForceChrome=CHROME_UPDATE_URL ForceEdge=EDGE_UPDATE_URL ForceFirefox=FIREFOX_INSTALL_URL
  PinChrome=PIN_SESSION_MINUTES PinEdge=PIN_SESSION_MINUTES PinFirefox=PIN_SESSION_MINUTES
  LibersignChrome=LIBERSIGN_ORIGINS LibersignEdge=LIBERSIGN_ORIGINS
  WebEidChrome=WEBEID_ORIGINS WebEidEdge=WEBEID_ORIGINS
)
# Public properties that must reach the elevated part of a per-machine install (what WiX's
# Property/@Secure does; wixl ignores that attribute).
secure="CHROME_EXTENSION_ID;EDGE_EXTENSION_ID;CHROME_UPDATE_URL;EDGE_UPDATE_URL;FIREFOX_INSTALL_URL;PIN_SESSION_MINUTES;LIBERSIGN_ORIGINS;WEBEID_ORIGINS"

for scope in machine user; do
  suffix=""
  [ "$scope" = machine ] || suffix=-$scope
  msi=$out/paraphe-$version-x64$suffix.msi
  rm -f "$msi"
  # wixl 0.101 finds File/@Source only relative to the current folder.
  (cd "$stage" && wixl -a x64 -D Version="$version" -D Scope="$scope" -D HostExe=paraphe-host.exe \
    -D ManifestDir=manifests -o "$msi" "$root/installers/windows/paraphe.wxs")
  if [ "$scope" = machine ]; then
    queries=()
    for c in "${conditions[@]}"; do
      queries+=(-q "UPDATE Component SET Condition = '${c#*=} OR REMOVE' WHERE Component = '${c%%=*}'")
    done
    # The managed values live in keys of Paraphe's extension alone: delete those keys with the
    # component (Registry row named "-"), whatever the property was at install time. (Wine 8's
    # Windows Installer leaves the values behind otherwise: at uninstall they format to empty.)
    for c in PinChrome:chrome PinEdge:edge PinFirefox:firefox LibersignChrome:chrome LibersignEdge:edge \
      WebEidChrome:chrome WebEidEdge:edge; do
      case ${c#*:} in
        chrome) key='SOFTWARE\Policies\Google\Chrome\3rdparty\extensions\[CHROME_EXTENSION_ID]' ;;
        edge) key='SOFTWARE\Policies\Microsoft\Edge\3rdparty\extensions\[EDGE_EXTENSION_ID]' ;;
        firefox) key='SOFTWARE\Policies\Mozilla\Firefox\3rdparty\Extensions\paraphe@paraphe.fr' ;;
      esac
      queries+=(-q "INSERT INTO \`Registry\` (\`Registry\`, \`Root\`, \`Key\`, \`Name\`, \`Component_\`) VALUES ('Remove${c%%:*}', 2, '$key', '-', '${c%%:*}')")
    done
    have=$(msiinfo export "$msi" Property | awk -F'\t' '$1 == "SecureCustomProperties" {print $2}')
    queries+=(-q "UPDATE Property SET Value = '${have:+$have;}$secure' WHERE Property = 'SecureCustomProperties'")
    msibuild "$msi" "${queries[@]}"
  fi
  log "$msi ($(stat -c %s "$msi") bytes)"
done
