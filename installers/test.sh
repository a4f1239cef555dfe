#!/usr/bin/env bash
# Tests of the installers (issue 8), end to end on this machine. Needs root (dpkg -i) and the
# tools of installers/setup.sh; fails, never skips, when something is missing.
#   1. lints: shellcheck + bash -n / sh -n of every installer script, xmllint of the WiX source,
#      JSON of the templates and the managed-storage schema, the Windows registry keys and the
#      macOS folders against manifests/locations.tsv
#   2. paraphe-deploy in a fake root: the files it writes (valid JSON), and nothing left after
#   3. the .deb (cargo-deb) + lintian, the .rpm (cargo-generate-rpm) + rpmlint
#   4. dpkg -i, policies from deploy.conf, then tests/browser/installed.test.js in Chromium and
#      Firefox against the INSTALLED host (/usr/bin/paraphe-host, found through
#      /etc/chromium/native-messaging-hosts and /usr/lib/mozilla/native-messaging-hosts), with
#      the managed storage the policies set; dpkg -r leaves only the conffile, --purge nothing
#   5. the per-user installer into a throw-away HOME, the same browser tests against that host,
#      uninstall: HOME is back to what it was, and nothing was written outside it; with an NSS
#      database in HOME (Chromium's), the middleware found is registered there and removed again
# It installs a package system-wide for about a minute: do not run browser tests of the
# extension on this machine meanwhile (they would see the system host manifest).
#   PARAPHE_NO_BUILD=1          package target/debug/paraphe-host as it is (no cargo build)
#   PARAPHE_EXT_CHROMIUM=DIR    another unpacked Chromium build of the extension
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n--> %s (at %ds)\n' "$*" "$SECONDS" >&2; }
fail() { printf 'installers/test.sh: FAIL: %s\n' "$*" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); printf '  ok  %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
SECONDS=0
t0=0

# --- prerequisites (missing → failure, with the command that installs them) ----------------
for tool in shellcheck xmllint jq lintian rpmlint rpm dpkg-deb node openssl softhsm2-util; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run installers/setup.sh (and scripts/setup.sh)"
done
cargo deb --version >/dev/null 2>&1 || fail "cargo-deb is missing: run installers/setup.sh"
cargo generate-rpm --version >/dev/null 2>&1 || fail "cargo-generate-rpm is missing: run installers/setup.sh"
ext=${PARAPHE_EXT_CHROMIUM:-$root/extension/dist/chromium}
[ -f "$ext/manifest.json" ] || fail "no extension build at $ext: run scripts/build-extension.sh"
if ! jq -e '.storage.managed_schema' "$ext/manifest.json" >/dev/null || [ ! -f "$ext/managed_schema.json" ]; then
  fail "$ext has no managed_schema: rebuild it (scripts/build-extension.sh)"
fi
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm install --no-audit --no-fund --silent)
if [ "$(dpkg-query -W -f='${Status}' paraphe-host 2>/dev/null || true)" = "install ok installed" ]; then
  fail "the paraphe-host package is already installed here; remove it first (dpkg --purge paraphe-host)"
fi

# --- 1. lints ------------------------------------------------------------------------------
step "lints"
bash_scripts=(installers/setup.sh installers/test.sh installers/linux/install.sh installers/linux/uninstall.sh
  installers/linux/build-packages.sh installers/macos/build-pkg.sh scripts/release.sh
  installers/windows/build-msi.sh installers/windows/test.sh)
sh_scripts=(manifests/generate.sh installers/linux/paraphe-deploy installers/linux/debian/postinst
  installers/linux/debian/prerm installers/linux/debian/postrm installers/linux/rpm/post_install.sh
  installers/linux/rpm/pre_uninstall.sh installers/linux/rpm/post_uninstall.sh
  installers/macos/scripts/postinstall installers/macos/scripts/preinstall
  installers/macos/install-user.sh installers/macos/uninstall-user.sh installers/macos/uninstall.sh)
for f in "${bash_scripts[@]}"; do bash -n "$f"; done
for f in "${sh_scripts[@]}"; do sh -n "$f"; done
shellcheck -x "${bash_scripts[@]}"
shellcheck -s sh "${sh_scripts[@]}"
ok "shellcheck and syntax: ${#bash_scripts[@]} bash + ${#sh_scripts[@]} sh scripts"
xmllint --noout installers/windows/paraphe.wxs
ok "paraphe.wxs is well-formed XML"
for f in manifests/*.json.in; do
  sed 's/@[A-Z_]*@/x/g' "$f" | jq -e . >/dev/null || fail "$f is not JSON"
done
jq -e '.type == "object" and (.properties | length > 0)' extension/src/managed_schema.json >/dev/null
jq -e '.storage.managed_schema == "managed_schema.json"' extension/src/manifest.json >/dev/null
ok "templates and managed_schema.json are JSON; manifest.json declares the schema"
# Windows: every registry key of locations.tsv is written by the MSI (system) and by
# install-user.ps1 (user), and removed by uninstall-user.ps1.
while IFS='	' read -r os scope browser _family _kind when place; do
  [ "$os" = windows ] || continue
  key=${place%\\NAME}
  key=${key#*\\}
  if [ "$scope" = system ]; then
    [ "$when" = always ] || continue
    grep -qiF "Key=\"$key\\fr.paraphe.host\"" installers/windows/paraphe.wxs || fail "paraphe.wxs lacks $place ($browser)"
  else
    for ps in installers/windows/install-user.ps1 installers/windows/uninstall-user.ps1; do
      grep -qF "$key" "$ps" || fail "$ps lacks $place ($browser)"
    done
  fi
done < <(grep -v '^#' manifests/locations.tsv)
ok "Windows registry keys match manifests/locations.tsv"
# The generator against the table: every Linux and macOS folder, both scopes.
for os in linux macos; do
  for scope in user system; do
    n=$(HOME=/home/x sh manifests/generate.sh places "$os" "$scope" | wc -l)
    [ "$n" -ge 4 ] || fail "generate.sh places $os $scope: $n rows"
  done
done
ok "generate.sh reads every OS and scope of locations.tsv"

# --- 2. paraphe-deploy in a fake root ------------------------------------------------------
step "paraphe-deploy in a fake root"
if [ -z "${PARAPHE_NO_BUILD:-}" ]; then cargo build -q -p paraphe-host; fi
dev_host=$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)/debug/paraphe-host
[ -x "$dev_host" ] || fail "no $dev_host (cargo build -p paraphe-host)"
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/etc/paraphe" "$fake/var/lib" "$fake/opt/vivaldi" "$fake/usr/lib/firefox-esr"
(cd "$fake" && find . | sort) > "$fake.before"
cat > "$fake/etc/paraphe/deploy.conf" <<'CONF'
CHROMIUM_UPDATE_URL=https://intranet.example.fr/paraphe/updates.xml
FIREFOX_INSTALL_URL=file:///usr/local/share/paraphe/paraphe-firefox.xpi
LIBERSIGN_ORIGINS=https://parapheur.example.fr https://s2low.example.fr:8443
WEBEID_ORIGINS=https://portail.example.fr
PIN_SESSION_MINUTES=5
ALLOW_LOOPBACK_HTTP=false
TIMESTAMP_URL=http://timestamp.example.fr/tsa
PKCS11_MODULES=/opt/vendor/lib/libvendor.so
CONF
deploy() { PARAPHE_DEPLOY_ROOT=$fake PARAPHE_HOST=/usr/bin/paraphe-host PARAPHE_GENERATE=$root/manifests/generate.sh \
  installers/linux/paraphe-deploy "$@"; }
deploy apply 2>/dev/null
mapfile -t written < <(deploy status)
[ "${#written[@]}" -ge 10 ] || fail "paraphe-deploy wrote ${#written[@]} files"
for f in "${written[@]}"; do jq -e . "$f" >/dev/null || fail "not JSON: $f"; done
for f in etc/chromium/native-messaging-hosts/fr.paraphe.host.json etc/opt/chrome/native-messaging-hosts/fr.paraphe.host.json \
  etc/opt/edge/native-messaging-hosts/fr.paraphe.host.json etc/opt/vivaldi/native-messaging-hosts/fr.paraphe.host.json \
  usr/lib/mozilla/native-messaging-hosts/fr.paraphe.host.json etc/chromium/policies/managed/paraphe.json \
  etc/firefox/policies/policies.json etc/paraphe/config.json; do
  [ -f "$fake/$f" ] || fail "paraphe-deploy did not write /$f"
done
[ ! -e "$fake/etc/brave" ] || fail "paraphe-deploy wrote Brave policies without Brave"
jq -e --slurpfile schema extension/src/managed_schema.json \
  '."3rdparty".extensions.debnnagefdjgplndcngcmjleglejidaj | keys - ($schema[0].properties | keys) == []' \
  "$fake/etc/chromium/policies/managed/paraphe.json" >/dev/null || fail "policy keys outside managed_schema.json"
jq -e '.ExtensionInstallForcelist == ["debnnagefdjgplndcngcmjleglejidaj;https://intranet.example.fr/paraphe/updates.xml"]' \
  "$fake/etc/chromium/policies/managed/paraphe.json" >/dev/null || fail "forcelist"
jq -e '.policies.ExtensionSettings."paraphe@paraphe.fr".installation_mode == "force_installed"
  and .policies."3rdparty".Extensions."paraphe@paraphe.fr".pinSessionMinutes == 5
  and .policies."3rdparty".Extensions."paraphe@paraphe.fr".timestampUrl == "http://timestamp.example.fr/tsa"' \
  "$fake/etc/firefox/policies/policies.json" >/dev/null || fail "Firefox policies"
echo '{"foreign": true}' > "$fake/etc/opt/edge/policies/managed/other.json"
deploy apply 2>/dev/null
deploy remove 2>/dev/null
rm "$fake/etc/opt/edge/policies/managed/other.json"
rmdir -p "$fake/etc/opt/edge/policies/managed" 2>/dev/null || true
mkdir -p "$fake/etc/paraphe"
(cd "$fake" && find . | sort) | grep -v '^./etc/paraphe/deploy.conf$' | diff "$fake.before" - \
  || fail "paraphe-deploy remove left files behind (above)"
echo 'NOT_A_KEY=1' >> "$fake/etc/paraphe/deploy.conf"
if deploy apply 2>/dev/null; then fail "paraphe-deploy accepted an unknown key"; fi
[ -f "$fake/etc/chromium/native-messaging-hosts/fr.paraphe.host.json" ] || fail "host manifests not written despite a bad deploy.conf"
deploy remove 2>/dev/null
rm -f "$fake.before"
ok "paraphe-deploy: ${#written[@]} files, valid JSON, policy keys in the schema, all removed; bad config refused"

# --- 3. packages ---------------------------------------------------------------------------
step "packages"
pkgs=$(mktemp -d)
trap 'rm -rf "$fake" "$pkgs"' EXIT
PARAPHE_PROFILE=dev PARAPHE_NO_BUILD=1 PARAPHE_FAST=1 PARAPHE_OUT=$pkgs installers/linux/build-packages.sh deb rpm >/dev/null
deb=$pkgs/paraphe-host_$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)-1_amd64.deb
rpmf=$(find "$pkgs" -name 'paraphe-host-*.rpm')
if [ ! -f "$deb" ] || [ ! -f "$rpmf" ]; then fail "packages not built: $(ls "$pkgs")"; fi
lintian_rc=0
lintian --fail-on error,warning "$deb" > "$pkgs/lintian.txt" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$pkgs/lintian.txt" >&2 || true
[ "$lintian_rc" -eq 0 ] || fail "lintian: errors or warnings (above)"
ok "lintian: no error, no warning"
rpmlint -c installers/linux/rpmlint.toml "$rpmf" > "$pkgs/rpmlint.txt" 2>&1 || { cat "$pkgs/rpmlint.txt"; fail "rpmlint"; }
grep -q ' 0 errors, 0 warnings' "$pkgs/rpmlint.txt" || { cat "$pkgs/rpmlint.txt"; fail "rpmlint"; }
rpm_files=$(rpm -qlp "$rpmf" 2>/dev/null)
for f in /usr/bin/paraphe-host /usr/sbin/paraphe-deploy /usr/share/paraphe/manifests/generate.sh /etc/paraphe/deploy.conf; do
  grep -qx "$f" <<< "$rpm_files" || fail "the .rpm lacks $f"
done
grep -q 'paraphe-deploy apply' <<< "$(rpm -qp --scripts "$rpmf" 2>/dev/null)" || fail "the .rpm does not run paraphe-deploy"
ok "rpmlint: no error, no warning; contents and scriptlets"

# --- 4. the .deb on this machine + browser test --------------------------------------------
snapshot() {
  find /etc /usr /var/lib /opt -xdev 2>/dev/null | grep -vE '^/var/lib/(dpkg|apt|ucf)/|^/usr/lib/python3|__pycache__' | sort
}
ours='paraphe|native-messaging-hosts|pkcs11-modules|/policies|^/etc/firefox|^/etc/opt'
compare() { # compare BEFORE AFTER WHAT: ours must match; other changes are other processes'
  local d
  d=$(diff "$1" "$2" || true)
  if printf '%s\n' "$d" | grep -E '^[<>]' | grep -E "$ours" >/dev/null; then
    printf '%s\n' "$d" | grep -E '^[<>]' | grep -E "$ours" >&2
    fail "$3"
  fi
  if [ -n "$d" ]; then printf '  (unrelated changes by other processes meanwhile, ignored:)\n%s\n' "$d" | head -20 >&2; fi
}
step "the .deb: dpkg -i, browser test, dpkg -r, dpkg --purge"
snapshot > "$pkgs/before"
cleanup_deb() { $SUDO dpkg --purge paraphe-host >/dev/null 2>&1 || true; }
trap 'cleanup_deb; rm -rf "$fake" "$pkgs"' EXIT
$SUDO dpkg -i "$deb" > "$pkgs/dpkg-i.log" 2>&1 || { cat "$pkgs/dpkg-i.log"; fail "dpkg -i"; }
jq -e '.path == "/usr/bin/paraphe-host"' /etc/chromium/native-messaging-hosts/fr.paraphe.host.json >/dev/null \
  || fail "no system host manifest after dpkg -i"
ok "dpkg -i: $(paraphe-deploy status | wc -l) files written by paraphe-deploy"
printf '%s\n' 'LIBERSIGN_ORIGINS=https://parapheur.example.fr https://s2low.example.fr:8443' 'PIN_SESSION_MINUTES=5' \
  | $SUDO tee -a /etc/paraphe/deploy.conf >/dev/null
$SUDO paraphe-deploy apply 2>/dev/null
(cd tests/browser && PARAPHE_INSTALLED=system PARAPHE_HOST_BIN=/usr/bin/paraphe-host PARAPHE_EXT_CHROMIUM=$ext \
  PARAPHE_EXPECT_MANAGED='{"libersignOrigins":["https://parapheur.example.fr","https://s2low.example.fr:8443"],"pinSessionMinutes":5}' \
  node --test --test-reporter=spec installed.test.js) || fail "browser tests against the .deb"
ok "Chromium and Firefox against /usr/bin/paraphe-host: signed, verified, managed storage"
mapfile -t owned < <(dpkg -L paraphe-host | while IFS= read -r p; do [ -f "$p" ] && echo "$p"; done)
$SUDO dpkg -r paraphe-host > "$pkgs/dpkg-r.log" 2>&1 || { cat "$pkgs/dpkg-r.log"; fail "dpkg -r"; }
snapshot > "$pkgs/after-r"
left=$(diff "$pkgs/before" "$pkgs/after-r" | grep '^>' | grep -E "$ours" || true)
[ "$left" = "$(printf '> /etc/paraphe\n> /etc/paraphe/deploy.conf')" ] || fail "dpkg -r left more than the conffile: $left"
ok "dpkg -r: only the conffile /etc/paraphe/deploy.conf is left (${#owned[@]} package files removed)"
$SUDO dpkg --purge paraphe-host > "$pkgs/dpkg-p.log" 2>&1 || { cat "$pkgs/dpkg-p.log"; fail "dpkg --purge"; }
snapshot > "$pkgs/after"
compare "$pkgs/before" "$pkgs/after" "dpkg --purge left files behind"
ok "dpkg --purge: nothing left"
trap 'rm -rf "$fake" "$pkgs"' EXIT

# --- 5. per-user installer -----------------------------------------------------------------
step "per-user installer into a throw-away HOME, browser test, uninstall"
home=$(mktemp -d /tmp/paraphe-home-XXXXXX)
trap 'rm -rf "$fake" "$pkgs" "$home"' EXIT
listing() { (cd "$1" && find . -printf '%M %s %p\n' | sort); }
listing "$home" > "$pkgs/home-before"
HOME=$home installers/linux/install.sh --host-bin "$dev_host" 2> "$pkgs/install.log" || { cat "$pkgs/install.log"; fail "install.sh"; }
for f in .local/lib/paraphe/paraphe-host .config/chromium/NativeMessagingHosts/fr.paraphe.host.json \
  .mozilla/native-messaging-hosts/fr.paraphe.host.json .local/lib/paraphe/installed-files .local/lib/paraphe/uninstall.sh; do
  [ -e "$home/$f" ] || fail "install.sh did not write ~/$f"
done
n=$(grep -c '^f' "$home/.local/lib/paraphe/installed-files")
ok "install.sh: $n files recorded"
(cd tests/browser && PARAPHE_INSTALLED=user PARAPHE_INSTALLED_HOME=$home PARAPHE_HOST_BIN=$home/.local/lib/paraphe/paraphe-host \
  PARAPHE_EXT_CHROMIUM=$ext node --test --test-reporter=spec installed.test.js) || fail "browser test against the per-user install"
ok "Chromium and Firefox against ~/.local/lib/paraphe/paraphe-host: signed, verified"
HOME=$home "$home/.local/lib/paraphe/uninstall.sh" --quiet
listing "$home" | diff "$pkgs/home-before" - || fail "uninstall.sh did not restore HOME (above)"
ok "uninstall.sh: HOME is back to what it was"
# Chromium's NSS database (TLS client authentication): made as Chromium's first start would.
command -v modutil >/dev/null || fail "modutil is missing: run scripts/setup.sh (libnss3-tools)"
mkdir -p "$home/.pki/nssdb"
modutil -create -dbdir "sql:$home/.pki/nssdb" -force >/dev/null 2>&1
cp "$home/.pki/nssdb/pkcs11.txt" "$pkgs/pkcs11.before"
HOME=$home installers/linux/install.sh --host-bin "$dev_host" --browsers chromium 2> "$pkgs/install.log" || { cat "$pkgs/install.log"; fail "install.sh with an NSS database"; }
mapfile -t middleware < <(sh manifests/generate.sh middleware "$dev_host" | cut -f1)
for path in "${middleware[@]}"; do
  grep -qxF "library=$path" "$home/.pki/nssdb/pkcs11.txt" || fail "install.sh did not register $path in ~/.pki/nssdb"
done
[ "$(grep -c '^n' "$home/.local/lib/paraphe/installed-files")" -eq "${#middleware[@]}" ] || fail "NSS modules not recorded"
HOME=$home "$home/.local/lib/paraphe/uninstall.sh" --quiet
diff "$pkgs/pkcs11.before" "$home/.pki/nssdb/pkcs11.txt" || fail "uninstall.sh left modules in ~/.pki/nssdb (above)"
[ ! -e "$home/.local/lib/paraphe" ] || fail "uninstall.sh left ~/.local/lib/paraphe"
ok "install.sh registered ${#middleware[@]} middleware in ~/.pki/nssdb (Chromium); uninstall.sh removed them"
snapshot > "$pkgs/after-user"
compare "$pkgs/before" "$pkgs/after-user" "the per-user install wrote outside HOME"
ok "nothing written outside HOME"

printf '\ninstallers: %d passed, 0 failed (%ds)\n' "$passed" $((SECONDS - t0))
