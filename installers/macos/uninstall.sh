#!/bin/sh
# Removes Paraphe installed by the macOS package (run with sudo):
#   sudo "/Library/Application Support/Paraphe/uninstall.sh"
# Deletes the files the postinstall recorded (only when unchanged since), the folders it
# created when empty, then the program folder and the package receipt.
#   --keep-program   only the recorded files (used by the next version's preinstall)
set -eu
base="/Library/Application Support/Paraphe"
record="$base/installed-files"
[ "$(id -u)" -eq 0 ] || { echo "run it with sudo" >&2; exit 1; }
tab=$(printf '\t')
if [ -f "$record" ]; then
  while IFS=$tab read -r kind sum path; do
    if [ "$kind" != f ] || [ ! -f "$path" ]; then continue; fi
    if [ "$(shasum -a 256 "$path" | cut -d' ' -f1)" = "$sum" ]; then rm -f "$path"; else echo "changed since, kept: $path" >&2; fi
  done < "$record"
  awk -F '\t' '$1 == "d" { print $3 }' "$record" | LC_ALL=C sort -r | while IFS= read -r d; do
    rmdir "$d" 2>/dev/null || true
  done
  rm -f "$record"
fi
[ "${1:-}" = --keep-program ] && exit 0
rm -rf "$base"
pkgutil --forget fr.paraphe.host >/dev/null 2>&1 || true
echo "Paraphe removed"
