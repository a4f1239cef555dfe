#!/usr/bin/env bash
# Tools the installers and their tests need (Debian 12). Idempotent; each step is skipped
# when its result is already there. Called by scripts/setup.sh; safe to run alone.
#   apt: lintian (checks the .deb), rpmlint + rpm (check the .rpm), shellcheck, libxml2-utils
#        (xmllint for the WiX source), dpkg-dev (dpkg-shlibdeps: the .deb's Depends), zip, jq
#   apt, Windows (installers/windows/build-msi.sh and test.sh): gcc-mingw-w64-x86-64 (linker,
#        winscard import library), wixl + msitools (MSI from WiX sources, and to inspect one),
#        wine + wine64 (runs the host and msiexec); rustup: the x86_64-pc-windows-gnu target
#   cargo: cargo-deb, cargo-generate-rpm (a few minutes each, once)
set -euo pipefail
log() { printf '[installers/setup] %s\n' "$*" >&2; }
# shellcheck source=scripts/apt.sh
. "$(dirname "$0")/../scripts/apt.sh"

pkgs=(lintian rpmlint rpm dpkg-dev shellcheck libxml2-utils zip jq
  gcc-mingw-w64-x86-64 wixl msitools wine wine64)
apt_ensure "${pkgs[@]}"
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  log "rustup: adding x86_64-pc-windows-gnu (paraphe-host.exe)"
  rustup target add x86_64-pc-windows-gnu
fi

# Versions pinned so that a release is reproducible; bump deliberately.
CARGO_DEB_VERSION=${CARGO_DEB_VERSION:-3.8.0}
CARGO_GENERATE_RPM_VERSION=${CARGO_GENERATE_RPM_VERSION:-0.21.1}
have() { cargo "$1" --version 2>/dev/null | grep -q "$2"; }
if ! have deb "$CARGO_DEB_VERSION"; then
  log "cargo: installing cargo-deb $CARGO_DEB_VERSION (a few minutes, once)"
  cargo install -q --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi
if ! have generate-rpm "$CARGO_GENERATE_RPM_VERSION"; then
  log "cargo: installing cargo-generate-rpm $CARGO_GENERATE_RPM_VERSION (a few minutes, once)"
  cargo install -q --locked cargo-generate-rpm --version "$CARGO_GENERATE_RPM_VERSION"
fi
log "done"
