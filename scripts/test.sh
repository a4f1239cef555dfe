#!/usr/bin/env bash
# The whole test suite: lints, unit and integration tests (SoftHSM, virtual card over
# pcscd), the WASM core, the extension in headless Chromium and Firefox, fuzz smoke runs.
# Installs what is missing first (scripts/setup.sh). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*" >&2; }
# A hang guard around a step (CI gives the whole run 90 minutes): after MINUTES, print what
# still runs under it and fail, instead of a run that never ends without a word.
bounded() {
  local minutes=$1 rc=0
  shift
  timeout --kill-after=30 "${minutes}m" "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "HUNG: '$*' still ran after $minutes minutes; the processes left:" >&2
    ps -eo pid,ppid,etime,args --forest | grep -v '\[' >&2 || true
  fi
  return "$rc"
}

step "setup"
scripts/setup.sh
# Packaging tools and linters for installers/ (cargo-deb, cargo-generate-rpm: minutes, once).
installers/setup.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "unit and integration tests (SoftHSM, virtual card)"
bounded 40 cargo test --workspace --quiet

if [ -f fuzz/Cargo.toml ]; then
  step "fuzz entry points, smoke run"
  cargo test --quiet --manifest-path fuzz/Cargo.toml
fi

step "WASM core, files and signing modules under wasm-bindgen-test (Node)"
CARGO_TARGET_DIR=target/wasm CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p paraphe-wasm --target wasm32-unknown-unknown --test web
CARGO_TARGET_DIR=target/wasm CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p paraphe-files-wasm --target wasm32-unknown-unknown --test web
CARGO_TARGET_DIR=target/wasm CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p paraphe-signing-wasm --target wasm32-unknown-unknown --test web

step "extension build"
scripts/build-extension.sh
# After the build: tsc reads the WASM core's types from extension/pkg.
step "extension checks (tsc --noEmit over JSDoc, eslint)"
(cd extension && npm run --silent check)
step "browser end-to-end tests (Chromium, Firefox ESR)"
cargo build --quiet -p paraphe-host -p paraphe-demo-portal -p paraphe-pkcs11-gate
# About 12 minutes on this 2-core machine, unloaded.
bounded 45 tests/browser/run.sh

# After the browser suite, never alongside it: for a minute a system-wide host manifest exists.
step "installers: .deb/.rpm + lintian/rpmlint, installed host in Chromium and Firefox, per-user install"
bounded 20 installers/test.sh

# Wine, no browser: may run alongside anything. Skipped with a message where Wine is missing.
step "Windows: paraphe-host.exe and the MSIs under Wine (msiexec, registry, native messaging, PKCS#11)"
bounded 20 installers/windows/test.sh

step "all tests passed"
