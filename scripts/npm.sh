# shellcheck shell=bash
# Sourced by scripts/setup.sh and scripts/build-extension.sh: `npm_ci DIR WHAT` installs the npm
# packages of DIR exactly as its lockfile says, again whenever the lockfile changed
# (node_modules/.paraphe-lock records the lockfile it was installed from); nothing otherwise.
npm_ci() { # npm_ci DIR WHAT
  local stamp=$1/node_modules/.paraphe-lock
  [ -f "$1/package-lock.json" ] || return 0
  if ! cmp -s "$1/package-lock.json" "$stamp"; then
    log "npm: installing $2 ($1/package-lock.json)"
    (cd "$1" && npm ci --no-audit --no-fund --silent)
    cp "$1/package-lock.json" "$stamp"
  fi
}
