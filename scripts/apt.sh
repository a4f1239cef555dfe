# Sourced by the setup scripts: `apt_ensure PKG…` installs the Debian packages that are
# missing, and does nothing (not even `apt-get update`) when all are there.
apt_ensure() {
  local sudo="" missing=() p
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "apt: all packages present"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  # Another apt (unattended-upgrades on a fresh desktop, a second terminal) may hold the dpkg
  # lock: wait for it rather than fail at once.
  local wait=(-o "DPkg::Lock::Timeout=${PARAPHE_APT_LOCK_TIMEOUT:-600}")
  log "apt: if another apt holds the dpkg lock, waiting for it up to ${PARAPHE_APT_LOCK_TIMEOUT:-600} s"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get "${wait[@]}" update -qq
  $sudo apt-get "${wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
