#!/bin/sh
# Paraphe for one macOS user, without administrator rights: the same installer as on Linux
# (installers/linux/install.sh, bash 3.2 and BSD tools), which puts the host in
# ~/Library/Application Support/Paraphe and the manifests in the user folders of
# manifests/locations.tsv (macos, user). A binary downloaded with a browser is quarantined:
#   xattr -d com.apple.quarantine paraphe-host
# Same options as install.sh (--host-bin, --browsers, --no-pkcs11).
here=$(cd "$(dirname "$0")" && pwd)
for s in "$here/install.sh" "$here/../linux/install.sh"; do
  [ -f "$s" ] && exec bash "$s" "$@"
done
echo "install.sh not found beside $0" >&2
exit 1
