#!/usr/bin/env bash
# Builds Paraphe's macOS installer package (run on a Mac with Xcode command-line tools):
#   installers/macos/build-pkg.sh [HOST_BIN]   → dist/Paraphe-<version>.pkg
# HOST_BIN defaults to a universal binary made with lipo from the aarch64 and x86_64 release
# builds (rustup target add aarch64-apple-darwin x86_64-apple-darwin). The package installs
# /Library/Application Support/Paraphe/{paraphe-host, manifests/, uninstall.sh}; its
# postinstall writes the host manifests to the system folders of manifests/locations.tsv
# (macos, system) and records them, so that uninstall.sh removes exactly those.
# Signing and notarisation, when the identities are set:
#   PARAPHE_MACOS_APP_IDENTITY="Developer ID Application: …"   codesign of paraphe-host
#   PARAPHE_MACOS_INSTALLER_IDENTITY="Developer ID Installer: …"   productbuild --sign
#   PARAPHE_MACOS_NOTARY_PROFILE=name   xcrun notarytool submit --keychain-profile name --wait
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[build-pkg] %s\n' "$*" >&2; }
[ "$(uname -s)" = Darwin ] || { log "pkgbuild and productbuild exist only on macOS"; exit 1; }

version=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)
work=dist/.stage/macos
rm -rf "$work"
mkdir -p "$work" dist

host=${1:-}
if [ -z "$host" ]; then
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    log "cargo build --release --target $t"
    cargo build -q --release -p paraphe-host --target "$t"
  done
  host=$work/paraphe-host
  lipo -create -output "$host" target/aarch64-apple-darwin/release/paraphe-host target/x86_64-apple-darwin/release/paraphe-host
fi

base="Library/Application Support/Paraphe"
root=$work/root
mkdir -p "$root/$base/manifests"
install -m 755 "$host" "$root/$base/paraphe-host"
install -m 644 manifests/locations.tsv manifests/*.json.in "$root/$base/manifests/"
install -m 755 manifests/generate.sh "$root/$base/manifests/"
install -m 755 installers/macos/uninstall.sh "$root/$base/uninstall.sh"
if [ -n "${PARAPHE_MACOS_APP_IDENTITY:-}" ]; then
  codesign --force --options runtime --timestamp --sign "$PARAPHE_MACOS_APP_IDENTITY" "$root/$base/paraphe-host"
fi

pkgbuild --root "$root" --install-location / --identifier fr.paraphe.host --version "$version" \
  --scripts installers/macos/scripts "$work/paraphe-host.pkg"
out=dist/Paraphe-$version.pkg
sign=()
[ -z "${PARAPHE_MACOS_INSTALLER_IDENTITY:-}" ] || sign=(--sign "$PARAPHE_MACOS_INSTALLER_IDENTITY")
productbuild ${sign[@]+"${sign[@]}"} --identifier fr.paraphe --version "$version" --package "$work/paraphe-host.pkg" "$out"
if [ -n "${PARAPHE_MACOS_NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$out" --keychain-profile "$PARAPHE_MACOS_NOTARY_PROFILE" --wait
  xcrun stapler staple "$out"
fi
log "built $out"
