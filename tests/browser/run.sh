#!/usr/bin/env bash
# Browser end-to-end tests: headless Chromium and Firefox ESR, real paraphe-host, SoftHSM.
# Builds nothing: run `cargo build -p paraphe-host -p paraphe-demo-portal -p paraphe-pkcs11-gate`
# (the gated test token, tests/kit/pkcs11-gate; a plain `cargo build` builds all three) and
# `scripts/build-extension.sh` first.
#   tests/browser/run.sh                  both browsers
#   tests/browser/run.sh chromium         one browser (chromium | firefox)
#   PARAPHE_HOST_BIN=/path/paraphe-host   another host binary
#   PARAPHE_KEEP_TEST_DIR=1               keep the throw-away profiles, token and host log
#   PARAPHE_FIREFOX_CONSOLE=1             Firefox's output and the extension's console messages
#                                         (background, frames, workers) on the test's output
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent
files=()
browsers=()
for b in "${@:-chromium firefox}"; do
  for x in $b; do files+=("$x.test.js"); browsers+=("$x"); done
done
# No browser: extension code that runs as it is in Node (common/pieces.js: a stalled read).
files+=(pieces.test.js)
# Suites that run in each browser asked for (card login: demo portal and Web eID pages);
# they need the demo portal too: cargo build -p paraphe-demo-portal.
export PARAPHE_BROWSERS="${browsers[*]}"
files+=(login.test.js)
# Opening plis (page API and « Ouvrir un pli »), same browsers.
files+=(decrypt.test.js)
# LiberSign-compatible interface (s2low-style wrapper, CMS, PES V2) and signData, same browsers.
files+=(libersign.test.js)
# The radar: each client's page named in the popup, « Activer » for the s2low-style wrapper
# and esup-signature's NexU calls, a TLS client-auth failure, the real nginx's 400 page for a
# missing client certificate (nginx-light, started by the test), nothing on a plain page; same
# browsers (Firefox under Marionette, which reaches the extension's pages).
files+=(radar.test.js)
# CAdES through the page API, batches of 100 with an interruption, the PIN session.
files+=(batch.test.js)
# XAdES jetons through the page API (xmlsec1 beside the files), same browsers.
files+=(formats.test.js)
# PAdES through the page API: 20 PDFs under one PIN (object streams, one signed by pyHanko
# before), each checked by pdfsig and pyHanko's validator; refusals before consent.
files+=(pades.test.js)
# Baseline B-T (issue #17): PAdES and CAdES with a time-stamp authority configured (the
# person's option in Chromium, the policy in Firefox): `openssl ts -reply` behind http here,
# results checked by pdfsig, pyHanko (time-stamp trusted) and openssl ts -verify; an authority
# that fails gives TIMESTAMP_FAILED and no signature. Same browsers.
files+=(timestamp.test.js)
# « Signer des fichiers » (extension page): files chosen through its file input, PAdES + XAdES
# jetons and CAdES under one consent and one PIN, checked by pdfsig, pyHanko, xmlsec1 and
# openssl cms; a closed consent window signs nothing. Same browsers (Firefox under Marionette).
files+=(sign-files.test.js)
# Attacks shown defended (docs/SECURITY.md, « Extension »): a dual-use key never signs a
# page's login digest, sandboxed documents are refused, nothing identifying before a site is
# allowed. Same browsers; needs the demo portal.
files+=(security.test.js)
# A hostile page against the consent window (activation, hidden tabs, one window per tab, the
# buttons' delay), the stored grants and the pli / hashing limits (issue #19), same browsers.
files+=(consent-security.test.js)
# Memory bounds (issue 18): signDocument of a 256 MiB file through the hashing frame, same
# browsers; memory, not time.
files+=(memory.test.js)
# Real readers and cards (virtual PIV card of tests/kit/virtual-card, pcscd, OpenSC), Chromium
# only; skips itself where pcscd / vpcd are missing or PARAPHE_SKIP_VCARD=1.
[[ " ${browsers[*]} " == *" chromium "* ]] && files+=(cards.test.js)
# TLS client authentication (browser.pkcs11 + a portal that requires a client certificate,
# node's and the real nginx's):
# Firefox only (Chromium's side, the NSS database, is host/tests/tls_nssdb.rs).
case " ${browsers[*]} " in *" firefox "*) files+=(tls.test.js) ;; esac
# One browser at a time: 2 cores, and each suite drives a consent window.
# --test-timeout: a hang guard for tests that set no timeout of their own (a hung test fails and
# the others go on); lib.js ends a file whose process outlives its tests.
exec node --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec "${files[@]}"
