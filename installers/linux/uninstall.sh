#!/usr/bin/env bash
# Removes what install.sh wrote for this user, and nothing else: the files listed in
# installed-files (~/.local/lib/paraphe/, macOS ~/Library/Application Support/Paraphe/), only
# when unchanged since (a file edited since is kept and named), the modules it added to the
# NSS database (with modutil), then the folders it created, when empty. Needs no root. Bash
# 3.2 and BSD tools suffice.
#   uninstall.sh [--quiet]
set -euo pipefail
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
log() { [ "$quiet" = 1 ] || printf '[paraphe] %s\n' "$*" >&2; }
warn() { printf '[paraphe] warning: %s\n' "$*" >&2; }

case $(uname -s) in
  Darwin) libdir="$HOME/Library/Application Support/Paraphe" ;;
  *) libdir=$HOME/.local/lib/paraphe ;;
esac
record=$libdir/installed-files
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
if [ ! -f "$record" ]; then
  printf '[paraphe] nothing to remove: %s not found\n' "$record" >&2
  exit 0
fi

while IFS='	' read -r kind sum path; do
  [ -n "$path" ] || continue
  case $path in "$HOME"/*) ;; *) warn "not under HOME, left alone: $path"; continue ;; esac
  case $kind in
    d) ;;
    n) # an NSS module ("sum" holds its name), when still there
      if ! grep -qxF "name=$sum" "$path/pkcs11.txt" 2>/dev/null; then
        log "already gone: $sum from $path"
      elif ! command -v modutil >/dev/null 2>&1; then
        warn "modutil not found, module $sum left in $path"
      elif modutil -dbdir "sql:$path" -delete "$sum" -force >/dev/null 2>&1; then
        log "removed $sum from $path"
      else
        warn "modutil could not remove $sum from $path"
      fi
      ;;
    f)
      if [ ! -e "$path" ]; then
        log "already gone: $path"
      elif [ "$(sha256 "$path")" = "$sum" ]; then
        rm -f "$path"
        log "removed $path"
      else
        warn "changed since install, kept: $path"
      fi
      ;;
    *) warn "unreadable record line: $kind $path" ;;
  esac
done < "$record"

# Folders the installer created, deepest first (a folder sorts before what it holds); a
# folder that holds something else stays.
dirs=$(awk -F '\t' '$1 == "d" { print $3 }' "$record" | LC_ALL=C sort -r)
rm -f "$libdir/uninstall.sh" "$record"
while IFS= read -r d; do
  if [ -n "$d" ] && [ -d "$d" ] && rmdir "$d" 2>/dev/null; then log "removed $d/"; fi
done <<< "$dirs"
log "uninstalled"
