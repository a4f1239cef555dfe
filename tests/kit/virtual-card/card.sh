#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
#
# The virtual PIV card of Paraphe's test kit: a Python card (jcecard, from PyPI) in a
# vsmartcard vpcd reader, seen by the real pcscd and OpenSC's PKCS#11 module. See README.md.
#
#   card.sh start DIR      venv (cached), pcscd if none runs, bridge, provisioning, DIR/env.
#                          Idempotent: a card already running for DIR is kept as it is.
#   card.sh remove DIR     pull the card out of its reader (keys and PIN counter kept); returns
#                          once pcscd's event thread has seen it out (pcsc_reader.py says why)
#   card.sh insert DIR     put it back (after pcscd has seen it out, also after a kill -USR1)
#   card.sh unblock DIR    PUK 12345678 resets the PIN to 123456 and its counter to 3
#   card.sh pin-tries DIR  prints the PIN tries left, as the card counts them. It selects the
#                          PIV application, which logs the card out: not in a logged-in test.
#   card.sh stall DIR      hang: the card holds the next APDU it gets, unanswered (a card or
#                          middleware that hangs), until unstall or remove
#   card.sh wait-stalled DIR  returns once the card holds an APDU (up to 30 s): the host is
#                          then blocked in a module call, known without a timer
#   card.sh unstall DIR    let the held APDU go (answered late) and the next ones through
#   card.sh status DIR     what runs
#   card.sh stop DIR       stop the bridge, and pcscd if this script started it
#
# Environment:
#   PARAPHE_CACHE          where the venv is kept (default ~/.cache/paraphe)
#   PARAPHE_PYTHON         the Python that makes the venv (default /usr/bin/python3)
#   PARAPHE_VCARD_READER   0 or 1: use only "Virtual PCD 00 0N" (default: the first free)
#   PARAPHE_VCARD_OWNER_PID  stop the card by itself when this process exits (test runners)
#   PARAPHE_VCARD_APDU_DELAY_MS  slow the card down: this many ms more per APDU (default 0)
#   PARAPHE_VCARD_EXCLUSIVE=1  no other virtual card while this one runs (waits for them
#                          first, up to PARAPHE_VCARD_WAIT seconds, default 600)
#   PARAPHE_OPENSC_MODULE  opensc-pkcs11.so elsewhere than Debian's paths
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename -- "${BASH_SOURCE[0]}")
PIN=123456
PUK=12345678
BRIDGE_PY=$HERE/virtual_piv_card.py
MARKER=.paraphe-virtual-card
PCSCD_DIR=/run/pcscd
# The pcscd a card.sh started, whichever DIR: the last card to stop stops it.
PCSCD_PIDFILE=${TMPDIR:-/tmp}/paraphe-vcard-pcscd.pid

say() { printf '[card] %s\n' "$*" >&2; }
die() { printf 'card.sh: %s\n' "$*" >&2; exit 1; }

now() { date +%s%N; }
T0=$(now)
T_STEP=$T0
# Prints how long the step took (and the total), e.g. "[card] venv 0.004 s (total 0.004 s)".
step() {
  local t
  t=$(now)
  printf '[card] %-28s %6.3f s  (total %6.3f s)\n' "$1" \
    "$(((t - T_STEP) / 1000000))e-3" "$(((t - T0) / 1000000))e-3" >&2
  T_STEP=$t
}

usage() { sed -n '7,31s/^# \{0,1\}//p' "$SELF" >&2; exit 2; }

reader_name() { printf 'Virtual PCD 00 0%s' "$1"; }
reader_port() { printf '%s' $((35963 + $1)); }
reader_lock() { printf '%s/paraphe-vcard-reader-%s.lock' "${TMPDIR:-/tmp}" "$1"; }

# pcsc_reader.py with the system's Python (ctypes on libpcsclite; the venv is not needed).
pcsc_reader() { "${PARAPHE_PYTHON:-python3}" "$HERE/pcsc_reader.py" "$@"; }

# "Yes", "No", or nothing when pcscd does not list the reader (what pcscd tells its clients).
card_in() {
  local state
  state=$(pcsc_reader state "$(reader_name "$1")" 2>/dev/null) || true
  printf '%s' "${state%% *}"
}

# Waits until card_in $1 answers $2 (up to $3 seconds, default 10).
wait_card() { pcsc_reader wait "$(reader_name "$1")" --card "$2" --timeout "${3:-10}" 2>/dev/null; }

# Running, and not a zombie: this machine's init may take a second to reap orphans.
alive() {
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
pid_of() { if [[ -s $DIR/$1.pid ]]; then cat -- "$DIR/$1.pid"; fi; }

# Whether pid $1 is alive and its command line contains $2: a recorded pid may have been
# reused by another process since (machine restarted, DIR kept).
is_ours() {
  alive "$1" || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Sends TERM, waits up to 3 s, then KILL. Only ever pids this script recorded, and only
# while they still run what we started ($2).
stop_pid() {
  local pid=$1 i
  is_ours "$pid" "$2" || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    alive "$pid" || return 0
    sleep 0.02
  done
  kill -KILL "$pid" 2>/dev/null || true
}

find_module() {
  local m
  for m in "${PARAPHE_OPENSC_MODULE:-}" \
    "/usr/lib/$(uname -m)-linux-gnu/opensc-pkcs11.so" \
    /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so \
    /usr/lib64/opensc-pkcs11.so /usr/lib/opensc-pkcs11.so; do
    [[ -n $m && -f $m ]] && { printf '%s\n' "$m"; return 0; }
  done
  die "opensc-pkcs11.so not found (apt-get install opensc, or set PARAPHE_OPENSC_MODULE)"
}

need_tools() {
  local t missing=()
  for t in pcscd opensc-tool pkcs11-tool yubico-piv-tool openssl flock; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [[ -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]] || missing+=("vpcd (vsmartcard-vpcd)")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/setup.sh installs them)"
}

# ---- the Python environment ---------------------------------------------------------------

# A venv with requirements.txt, kept in the cache and rebuilt when requirements.txt changes.
# Several runs may start at once: the first builds it under a lock, the others wait.
ensure_venv() {
  local python=${PARAPHE_PYTHON:-} stamp cache
  if [[ -z $python ]]; then
    python=/usr/bin/python3
    [[ -x $python ]] || python=$(command -v python3) || die "python3 not found"
  fi
  stamp=$(sha256sum "$HERE/requirements.txt" | cut -c1-16)
  cache=${PARAPHE_CACHE:-${HOME:-/root}/.cache/paraphe}
  VENV=$cache/jcecard-venv
  if ! mkdir -p -- "$cache" 2>/dev/null || [[ ! -w $cache ]]; then
    VENV=$DIR/venv # no writable cache: a venv for this directory only
  fi
  [[ -e $VENV/.ok-$stamp && -x $VENV/bin/python ]] && return 0
  (
    flock 9
    [[ -e $VENV/.ok-$stamp && -x $VENV/bin/python ]] && exit 0
    say "making the jcecard venv in $VENV (once, ~10 s)"
    "$python" -c 'import ensurepip, venv' 2>/dev/null ||
      die "$python cannot make a venv (apt-get install python3-venv)"
    rm -rf -- "$VENV"
    "$python" -m venv "$VENV" || die "python -m venv $VENV failed"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
      -r "$HERE/requirements.txt" || die "pip install of jcecard failed (PyPI reachable?)"
    "$VENV/bin/python" -c 'import jcecard.main, jcecard.piv' || die "jcecard does not import"
    : >"$VENV/.ok-$stamp"
  ) 9>"$VENV.lock"
}

# ---- pcscd --------------------------------------------------------------------------------

# A pcscd that is not a zombie (one we stopped may wait a while for its parent to reap it).
pcscd_pid() { if [[ -s $PCSCD_PIDFILE ]]; then cat -- "$PCSCD_PIDFILE"; fi; }

# shellcheck disable=SC2009 # pgrep lists zombies too
pcscd_running() { ps -C pcscd -o stat= 2>/dev/null | grep -qv '^Z'; }

ensure_pcscd() {
  if pcscd_running; then
    [[ -n $(card_in 0) ]] ||
      die "pcscd runs without vpcd's readers: install vsmartcard-vpcd and restart pcscd"
    return 0
  fi
  mkdir -p -- "$PCSCD_DIR" || die "cannot make $PCSCD_DIR (run as root, or start pcscd yourself)"
  # No pcscd answers: a socket or pid file left there is stale.
  rm -f -- "$PCSCD_DIR/pcscd.comm" "$PCSCD_DIR/pcscd.pid"
  setsid pcscd --foreground >"$DIR/pcscd.log" 2>&1 </dev/null 7>&- 8>&- &
  echo $! >"$PCSCD_PIDFILE"
  local i
  for ((i = 0; i < 250; i++)); do
    [[ -n $(card_in 0) ]] && return 0
    alive "$(pcscd_pid)" || break
    sleep 0.02
  done
  cat -- "$DIR/pcscd.log" >&2 || true
  die "pcscd did not come up with vpcd's readers (see $DIR/pcscd.log)"
}

# ---- the bridge ---------------------------------------------------------------------------

# Starts the bridge on reader $1. Returns 3 when another virtual card holds that reader.
start_bridge() {
  local n=$1 pid i rc
  flock -n "$(reader_lock "$n")" true 2>/dev/null || return 3
  [[ $(card_in "$n") == No ]] || return 3 # a card that is not ours (vicc…)
  # The bridge keeps fd 7 (the share lock, see share_lock) open for its life.
  setsid "$VENV/bin/python" "$BRIDGE_PY" --port "$(reader_port "$n")" \
    --storage "$DIR/jcecard" --lock "$(reader_lock "$n")" \
    --delay-ms "${PARAPHE_VCARD_APDU_DELAY_MS:-0}" --stall-file "$DIR/stall" --out-file "$DIR/out" ${PARAPHE_VCARD_OWNER_PID:+--exit-with "$PARAPHE_VCARD_OWNER_PID"} \
    >"$DIR/bridge.log" 2>&1 </dev/null 8>&- &
  pid=$!
  for ((i = 0; i < 500; i++)); do
    if ! alive "$pid"; then
      rc=0
      wait "$pid" || rc=$?
      ((rc == 3)) && return 3 # lost the race for the reader's lock
      cat -- "$DIR/bridge.log" >&2
      die "the bridge stopped (see $DIR/bridge.log)"
    fi
    if [[ $(card_in "$n") == Yes ]]; then
      echo "$pid" >"$DIR/bridge.pid"
      echo "$n" >"$DIR/reader"
      return 0
    fi
    sleep 0.02
  done
  stop_pid "$pid" "$BRIDGE_PY"
  die "the card did not show in $(reader_name "$n") within 10 s (see $DIR/bridge.log)"
}

# The PKCS#11 slot ID OpenSC gives our reader (pkcs11-tool -L: "Slot 1 (0x4): Virtual PCD 00 01").
p11_slot() {
  pkcs11-tool --module "$MODULE" -L 2>/dev/null |
    sed -n "s/^Slot [0-9]* (\(0x[0-9a-f]*\)): $(reader_name "$1")\$/\1/p" | head -n1
}

# The card as OpenSC shows it: both certificates, with the CKA_IDs the tests use.
check_card() {
  local slot listing
  slot=$(p11_slot "$1")
  [[ -n $slot ]] || die "OpenSC shows no slot for $(reader_name "$1")"
  listing=$(OPENSC_DRIVER=PIV-II pkcs11-tool --module "$MODULE" --slot "$((slot))" \
    --list-objects --type cert 2>&1) || die "pkcs11-tool cannot list the card: $listing"
  for id in 01 02; do
    grep -q "ID: *$id\$" <<<"$listing" || die "OpenSC shows no certificate $id on the card:
$listing"
  done
}

write_env() {
  local n
  n=$(cat -- "$DIR/reader")
  {
    printf '# Paraphe virtual PIV card (tests/kit/virtual-card/card.sh): source it.\n'
    printf '# Test-only values, regenerated at each start.\n'
    printf 'export OPENSC_DRIVER=PIV-II\n'
    printf 'export PARAPHE_VCARD_MODULE=%q\n' "$MODULE"
    printf 'export PARAPHE_VCARD_PIN=%q\n' "$PIN"
    printf 'export PARAPHE_VCARD_PUK=%q\n' "$PUK"
    printf 'export PARAPHE_VCARD_DIR=%q\n' "$DIR"
    printf 'export PARAPHE_VCARD_READER=%q\n' "$(reader_name "$n")"
    printf 'export PARAPHE_VCARD_BRIDGE_PID=%q\n' "$(pid_of bridge)"
    printf 'export PARAPHE_VCARD_CA=%q\n' "$DIR/pki/ca.crt"
  } >"$DIR/env"
}

# With PARAPHE_VCARD_OWNER_PID, a watcher stops the card when that process ends: a test
# binary has no hook that runs at its exit, and a card left running would hold its reader.
start_watcher() {
  local owner=${PARAPHE_VCARD_OWNER_PID:-}
  [[ -n $owner ]] || return 0
  alive "$owner" || die "PARAPHE_VCARD_OWNER_PID=$owner is not running"
  stop_pid "$(pid_of watcher)" watcher
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; exec "$2" stop "$3"' watcher \
    "$owner" "$SELF" "$DIR" >"$DIR/watcher.log" 2>&1 </dev/null 7>&- 8>&- &
  echo $! >"$DIR/watcher.pid"
}

cmd_start() {
  need_tools
  MODULE=$(find_module)
  if [[ -e $DIR && ! -e $DIR/$MARKER && -n $(ls -A -- "$DIR" 2>/dev/null) ]]; then
    die "$DIR is not empty and was not made by card.sh"
  fi
  mkdir -p -- "$DIR/pki"
  : >"$DIR/$MARKER"
  if is_ours "$(pid_of bridge)" "$BRIDGE_PY" && [[ -s $DIR/reader ]] && [[ $(card_in "$(cat "$DIR/reader")") == Yes ]]; then
    say "already running (bridge $(pid_of bridge), $(reader_name "$(cat "$DIR/reader")"))"
    write_env
    start_watcher
    return 0
  fi
  stop_pid "$(pid_of bridge)" "$BRIDGE_PY" # a bridge whose card is not visible: start afresh
  rm -f -- "$DIR/bridge.pid" "$DIR/reader" "$DIR/out" "$DIR/events-in"

  ensure_venv
  step "venv ($VENV)"
  ensure_pcscd
  step "pcscd"
  local n rc=3 candidates=(0 1)
  [[ -n ${PARAPHE_VCARD_READER:-} ]] && candidates=("$PARAPHE_VCARD_READER")
  for n in "${candidates[@]}"; do
    rc=0
    start_bridge "$n" || rc=$?
    ((rc == 0)) && break
  done
  ((rc == 0)) || die "no free virtual reader (another virtual card in Virtual PCD 00 0${candidates[*]}?)"
  step "bridge, card in reader $n"
  "$HERE/provision.sh" "$DIR" "$(reader_name "$n")"
  step "provisioning (9A, 9C, CHUID)"
  check_card "$n"
  step "OpenSC sees both certificates"
  record_inserted "$n"
  write_env
  start_watcher
  say "ready: $(reader_name "$n"), bridge pid $(pid_of bridge); . $DIR/env"
}

cmd_stop() {
  stop_pid "$(pid_of bridge)" "$BRIDGE_PY"
  rm -f -- "$DIR/bridge.pid"
  local pid other="" n
  pid=$(pcscd_pid)
  if is_ours "$pid" pcscd; then
    for n in 0 1; do
      flock -n "$(reader_lock "$n")" true 2>/dev/null || other=1
    done
    if [[ -n $other ]]; then
      say "leaving pcscd ($pid) running: another virtual card uses it (it will stop it)"
    else
      stop_pid "$pid" pcscd
      rm -f -- "$PCSCD_PIDFILE"
    fi
  fi
  pid=$(pid_of watcher)
  if [[ -n $pid && $pid != "$$" ]]; then
    stop_pid "$pid" watcher
  fi
  rm -f -- "$DIR/watcher.pid"
  step "stopped"
}

bridge_or_die() {
  BRIDGE=$(pid_of bridge)
  is_ours "$BRIDGE" "$BRIDGE_PY" || die "no card running for $DIR (card.sh start $DIR)"
  READER_N=$(cat -- "$DIR/reader")
}

# What pcscd and the bridge saw, for a card that did not come or go as asked.
card_diagnosis() {
  printf '\n--- opensc-tool -l\n%s\n--- end of %s\n' "$(opensc-tool -l 2>&1)" "$DIR/bridge.log"
  tail -n 15 -- "$DIR/bridge.log" 2>&1
  printf -- '--- pcscd: pid %s%s\n' "$(pcscd_pid)" "$(pcscd_running || echo ', not running')"
  if [[ -s $DIR/pcscd.log ]]; then tail -n 10 -- "$DIR/pcscd.log" 2>&1; fi
}


# The reader's event counter when the card was last seen in (DIR/events-in): pcscd's event
# thread moves it at each insertion and removal it sees (pcsc_reader.py says why it matters).
record_inserted() {
  local state
  state=$(pcsc_reader state "$(reader_name "$1")")
  [[ $state == Yes\ * ]] || die "pcscd says of $(reader_name "$1"): ${state:-no such reader}"
  echo "${state#Yes }" >"$DIR/events-in"
}

# Until pcscd's event thread has seen the card out (its counter moved): what clients are told
# can be wrong both ways. A failed APDU says "absent" before the thread knows, and a card put
# back before the thread's next poll then stays "absent" for good (1 run in ~100 of the host's
# stall test); a client's reset can say "present" after the thread saw the card go (1 run in
# ~80 once that was fixed).
wait_seen_out() {
  local out in
  in=$(cat -- "$DIR/events-in" 2>/dev/null || true)
  if [[ -z $in ]]; then # a card started by an older card.sh: what clients see, then
    wait_card "$READER_N" No 5 || die "the card is still in $(reader_name "$READER_N")$(card_diagnosis)"
    return 0
  fi
  out=$(pcsc_reader wait "$(reader_name "$READER_N")" --events-not "$in" --timeout 5 2>&1) ||
    die "the card is still in $(reader_name "$READER_N") for pcscd ($out)$(card_diagnosis)"
}

cmd_remove() {
  bridge_or_die
  kill -USR1 "$BRIDGE"
  wait_seen_out
  step "removed"
}

# Also after a pull (kill -USR1 by a test, which returns at once: the bridge's DIR/out tells):
# waits until pcscd has seen the card out before putting it back.
cmd_insert() {
  bridge_or_die
  if [[ ! -e $DIR/out ]]; then
    wait_card "$READER_N" Yes 5 || die "the card is in, yet not in $(reader_name "$READER_N")$(card_diagnosis)"
    step "in already"
    return 0
  fi
  wait_seen_out
  local out_count state
  state=$(pcsc_reader state "$(reader_name "$READER_N")")
  out_count=${state##* }
  kill -USR2 "$BRIDGE"
  # Seen in by the event thread too (its counter moved again), not only "present" for clients.
  state=$(pcsc_reader wait "$(reader_name "$READER_N")" --card Yes --events-not "${out_count:--1}" --timeout 5 2>&1) ||
    die "the card did not come back in $(reader_name "$READER_N") ($state)$(card_diagnosis)"
  record_inserted "$READER_N"
  step "inserted"
}

cmd_stall() {
  bridge_or_die
  : >"$DIR/stall"
  step "stall set"
}

cmd_wait_stalled() {
  bridge_or_die
  local i
  for ((i = 0; i < 1500; i++)); do
    [[ -e $DIR/stall.held ]] && { step "an APDU is held"; return 0; }
    sleep 0.02
  done
  die "no APDU came to the stalled card within 30 s"
}

cmd_unstall() {
  rm -f -- "$DIR/stall"
  step "stall released"
}

cmd_unblock() {
  bridge_or_die
  local out
  out=$(yubico-piv-tool -r "$(reader_name "$READER_N")" -a unblock-pin -P "$PUK" -N "$PIN" 2>&1) ||
    die "unblock failed: $out"
  step "PIN unblocked"
}

cmd_pin_tries() {
  bridge_or_die
  local out
  out=$(yubico-piv-tool -r "$(reader_name "$READER_N")" -a status 2>&1) || die "status failed: $out"
  sed -n 's/^PIN tries left:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out"
}

cmd_status() {
  local pid
  for pid in bridge watcher; do
    printf '%-8s %s\n' "$pid" "$(pid_of "$pid") $(alive "$(pid_of "$pid")" && echo running || echo -)"
  done
  printf '%-8s %s\n' pcscd "$(pcscd_pid) $(is_ours "$(pcscd_pid)" pcscd && echo "running (started by card.sh)" || echo -)"
  if [[ -s $DIR/reader ]]; then
    printf 'reader   %s, card: %s\n' "$(reader_name "$(cat "$DIR/reader")")" "$(card_in "$(cat "$DIR/reader")")"
  fi
}

[[ $# -eq 2 ]] || usage
DIR=$(realpath -m -- "$2")
[[ $DIR != / ]] || die "refusing to use /"
# Every card holds ${TMPDIR}/paraphe-vcard-share.lock for its life (its bridge keeps fd 7):
# shared by default, exclusive with PARAPHE_VCARD_EXCLUSIVE=1, which waits until no other
# virtual card runs and keeps others from starting. Test runs want that: a card reset by
# another process while OpenSC talks to it can deadlock OpenSC 0.23 for good (README.md).
share_lock() {
  local mode=-s what="other virtual cards run exclusively"
  if [[ ${PARAPHE_VCARD_EXCLUSIVE:-} == 1 ]]; then
    mode=-x what="other virtual cards run"
  fi
  is_ours "$(pid_of bridge)" "$BRIDGE_PY" && return 0 # running already: its bridge holds it
  exec 7>>"${TMPDIR:-/tmp}/paraphe-vcard-share.lock"
  flock -n "$mode" 7 && return 0
  say "waiting: $what (up to ${PARAPHE_VCARD_WAIT:-600} s)"
  flock -w "${PARAPHE_VCARD_WAIT:-600}" "$mode" 7 || die "$what: gave up waiting"
  step "waited for other cards"
}

# start and stop take turns machine-wide: two runs starting at once would both start a
# pcscd, or pick the same reader. fd 8 holds the lock; background children close it.
serialize() {
  exec 8>"${TMPDIR:-/tmp}/paraphe-vcard-start.lock"
  flock -w 60 8 || die "another card.sh start/stop has held the lock for 60 s"
}

case $1 in
  start) share_lock && serialize && cmd_start ;;
  stop) serialize && cmd_stop ;;
  remove) cmd_remove ;;
  insert) cmd_insert ;;
  unblock) cmd_unblock ;;
  stall) cmd_stall ;;
  wait-stalled) cmd_wait_stalled ;;
  unstall) cmd_unstall ;;
  pin-tries) cmd_pin_tries ;;
  status) cmd_status ;;
  *) usage ;;
esac
