#!/usr/bin/env bash
# Builds the release artefacts into dist/ (gitignored), with their SHA256SUMS:
#   paraphe-host-<v>-linux-x86_64                 the host binary (release profile)
#   paraphe-<v>-linux-x86_64.tar.gz               host + per-user installer (install.sh, uninstall.sh,
#                                                 manifests/); also usable on macOS with a macOS binary
#   paraphe-host_<v>-1_amd64.deb, paraphe-host-<v>-1.x86_64.rpm   system-wide packages
#   paraphe-extension-<v>-chromium.zip            unpacked Chromium build, zipped (store upload or
#                                                 self-hosting: see docs/ENTERPRISE.md)
#   paraphe-extension-<v>-firefox.zip             Firefox build, zipped (to be signed by AMO)
#   paraphe-<v>-x64.msi, paraphe-<v>-x64-user.msi  Windows installers, per machine and per user
#                                                 (installers/windows/build-msi.sh: paraphe-host.exe
#                                                 cross-compiled with mingw-w64, MSI made by wixl)
#   paraphe-<v>-windows-kit.zip                   paraphe-host.exe, install-user.ps1, uninstall-user.ps1,
#                                                 paraphe.wxs, templates and the two Windows manifests
# macOS: installers/macos/build-pkg.sh on a Mac. See installers/README.md.
#   PARAPHE_NO_BUILD=1   package what is already built (target/release, extension/dist)
# Timestamps come from the last commit (SOURCE_DATE_EPOCH), so that the archives are
# reproducible from the same build outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[release] %s\n' "$*" >&2; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
version=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)
target_dir=$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
for tool in cargo-deb cargo-generate-rpm zip jq wixl msibuild x86_64-w64-mingw32-strip; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run installers/setup.sh"; exit 1; }
done
t0=$SECONDS

mkdir -p dist
find dist -mindepth 1 -maxdepth 1 ! -name .stage -exec rm -rf {} +
stage=dist/.stage/release
rm -rf "$stage"
mkdir -p "$stage"

if [ -z "${PARAPHE_NO_BUILD:-}" ]; then
  log "cargo build --release -p paraphe-host"
  cargo build -q --release -p paraphe-host
  log "cargo build --release --target x86_64-pc-windows-gnu -p paraphe-host"
  cargo build -q --release --target x86_64-pc-windows-gnu -p paraphe-host
  log "extension (scripts/build-extension.sh)"
  scripts/build-extension.sh
fi
bin=$target_dir/release/paraphe-host
[ -x "$bin" ] || { log "no $bin"; exit 1; }
for b in chromium firefox; do
  [ -f "extension/dist/$b/manifest.json" ] || { log "no extension/dist/$b"; exit 1; }
done

# Deterministic zip of a folder: sorted names, fixed times, no extra attributes.
zipdir() { # zipdir DIR OUT.zip
  local out
  out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  (cd "$1" && find . -type f | LC_ALL=C sort | zip -q -X -D "$out" -@)
}

# Host binary (stripped).
strip -o "dist/paraphe-host-$version-linux-x86_64" "$bin"

# Per-user tarball.
tree=$stage/paraphe-$version-linux-x86_64
mkdir -p "$tree/manifests"
install -m 755 "dist/paraphe-host-$version-linux-x86_64" "$tree/paraphe-host"
install -m 755 installers/linux/install.sh installers/linux/uninstall.sh "$tree/"
install -m 644 manifests/locations.tsv manifests/*.json.in manifests/README.md "$tree/manifests/"
install -m 755 manifests/generate.sh "$tree/manifests/"
cat > "$tree/README.txt" <<TXT
Paraphe $version for Linux, per user (no root):
  ./install.sh          installs the host in ~/.local/lib/paraphe and registers it with the browsers found
  ~/.local/lib/paraphe/uninstall.sh   removes exactly what install.sh wrote
The browser extension is installed separately. System-wide: the .deb or .rpm.
TXT
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$stage" -czf "dist/paraphe-$version-linux-x86_64.tar.gz" "paraphe-$version-linux-x86_64"

# Packages (release profile; already built above).
PARAPHE_NO_BUILD=1 PARAPHE_PROFILE=release PARAPHE_OUT=dist installers/linux/build-packages.sh deb rpm >/dev/null

# Extension builds.
for b in chromium firefox; do
  rm -rf "$stage/ext-$b"
  cp -r "extension/dist/$b" "$stage/ext-$b"
  zipdir "$stage/ext-$b" "dist/paraphe-extension-$version-$b.zip"
done

# Windows: the two MSIs, and a kit for the per-user PowerShell install (and for rebuilding
# the MSI with WiX on Windows).
exe=$target_dir/x86_64-pc-windows-gnu/release/paraphe-host.exe
[ -f "$exe" ] || { log "no $exe"; exit 1; }
PARAPHE_HOST_EXE=$exe installers/windows/build-msi.sh dist
kit=$stage/paraphe-$version-windows-kit
mkdir -p "$kit/manifests" "$kit/windows"
x86_64-w64-mingw32-strip -o "$kit/paraphe-host.exe" "$exe"
install -m 644 installers/windows/paraphe.wxs installers/windows/install-user.ps1 installers/windows/uninstall-user.ps1 "$kit/"
install -m 644 manifests/*.json.in "$kit/manifests/"
for family in chromium firefox; do
  sh manifests/generate.sh manifest "$family" paraphe-host.exe > "$kit/windows/fr.paraphe.host.$family.json"
done
cat > "$kit/README.txt" <<TXT
Paraphe $version, Windows. The installers are paraphe-$version-x64.msi (per machine) and
paraphe-$version-x64-user.msi (per user). This kit is for a per-user install without MSI:
  powershell -ExecutionPolicy Bypass -File install-user.ps1
See installers/README.md in the source tree.
TXT
zipdir "$kit" "dist/paraphe-$version-windows-kit.zip"

rm -rf dist/.stage
sums=$(cd dist && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum)
printf '%s\n' "$sums" > dist/SHA256SUMS
log "dist/ ($((SECONDS - t0)) s):"
find dist -maxdepth 1 -type f -printf '  %10s  %f\n' | LC_ALL=C sort -k2 >&2
