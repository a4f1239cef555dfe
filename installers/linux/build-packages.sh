#!/usr/bin/env bash
# Builds the system-wide Linux packages: a .deb (cargo-deb) and an .rpm (cargo-generate-rpm),
# from [package.metadata.deb] / [package.metadata.generate-rpm] in host/Cargo.toml and a
# staging tree made here from manifests/ (the host manifests, generate.sh and its table),
# paraphe-deploy, deploy.conf, man pages and the changelog.
#   installers/linux/build-packages.sh [deb] [rpm]     (default: both)
#     PARAPHE_PROFILE=release|dev   Cargo profile of the host (default release; tests use dev)
#     PARAPHE_OUT=DIR               where the packages go (default dist/)
#     PARAPHE_NO_BUILD=1            package the host binary already built for that profile
#     PARAPHE_FAST=1                light compression (tests)
# Prints the path of each package built. Needs cargo-deb and cargo-generate-rpm
# (installers/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[build-packages] %s\n' "$*" >&2; }

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(deb rpm)
profile=${PARAPHE_PROFILE:-release}
out=${PARAPHE_OUT:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)
target_dir=$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
case $profile in dev) bin=$target_dir/debug/paraphe-host ;; *) bin=$target_dir/$profile/paraphe-host ;; esac

if [ -z "${PARAPHE_NO_BUILD:-}" ]; then
  log "cargo build -p paraphe-host ($profile)"
  cargo build -q -p paraphe-host --profile "$profile"
fi
[ -x "$bin" ] || { log "no host binary at $bin"; exit 1; }

# --- staging (paths in host/Cargo.toml are relative to host/: ../dist/.stage/linux) -----
# The packages ship the host, paraphe-deploy, the generator and its table; the host manifests
# themselves are written at install time by paraphe-deploy (see its header for why).
stage=dist/.stage/linux
rm -rf "$stage"
mkdir -p "$stage"
common=$stage/common
install -d "$common/usr/share/paraphe/manifests" "$common/etc/paraphe" \
  "$common/usr/share/man/man1" "$common/usr/share/man/man8" "$common/usr/share/doc/paraphe-host"
install -m 644 manifests/locations.tsv manifests/*.json.in "$common/usr/share/paraphe/manifests/"
install -m 644 installers/linux/deploy.conf "$common/etc/paraphe/deploy.conf"
# paraphe-host.1 is written by the host itself, from its command line's grammar (clap_mangen).
"$bin" man | gzip -9n > "$common/usr/share/man/man1/paraphe-host.1.gz"
gzip -9n < installers/linux/paraphe-deploy.8 > "$common/usr/share/man/man8/paraphe-deploy.8.gz"
install -m 644 docs/ENTERPRISE.md "$common/usr/share/doc/paraphe-host/ENTERPRISE.md"
chmod 644 "$common"/usr/share/man/man*/*.gz

# Debian changelog, for this version (lintian wants one that names it).
date=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
cat > "$stage/changelog" <<EOC
paraphe-host ($version-1) unstable; urgency=medium

  * Release $version: see the project's history for changes.

 -- Paraphe maintainers <paraphe@paraphe.fr>  $date
EOC

for kind in "${kinds[@]}"; do
  case $kind in
    deb)
      log "cargo deb ($profile)"
      cargo deb -q -p paraphe-host --no-build --profile "$profile" ${PARAPHE_FAST:+--fast} -o "$out/paraphe-host_${version}-1_amd64.deb" >/dev/null
      echo "$out/paraphe-host_${version}-1_amd64.deb"
      ;;
    rpm)
      # cargo-generate-rpm packages the binary as it is: a stripped copy.
      if command -v strip >/dev/null; then strip -o "$stage/paraphe-host" "$bin"; else cp "$bin" "$stage/paraphe-host"; fi
      log "cargo generate-rpm"
      rm -f "$out/paraphe-host-$version"-*.rpm
      cargo generate-rpm -p host ${PARAPHE_FAST:+--payload-compress gzip} -o "$out/" >/dev/null
      find "$out" -maxdepth 1 -name "paraphe-host-$version-*.rpm"
      ;;
    *) log "unknown package kind $kind"; exit 2 ;;
  esac
done
