# shellcheck shell=bash
#
# Helpers shared by make-token.sh and make-foreign-token.sh. Sourced, never run.
#
# Callers set these globals before using the token helpers:
#   KIT_DIR     absolute kit directory (set by kit_prepare_dir)
#   KIT_MODULE  path of libsofthsm2.so (from kit_find_module)
#   KIT_LABEL   token label, KIT_PIN user PIN, KIT_SO_PIN SO PIN
#   KIT_WORK    scratch directory inside KIT_DIR, removed on success

# Our own OID arc (a UUID under 2.25, so it can never collide with a real CA's
# policy): the host must not mistake test certificates for real RGS ones.
# shellcheck disable=SC2034 # used by the scripts that source this file
KIT_POLICY_ARC=2.25.329800735698586629295641978511506172918

# The marker tells kit_prepare_dir that a directory is ours and safe to wipe.
KIT_MARKER=.paraphe-test-kit

kit_die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# openssl and pkcs11-tool are chatty on success; keep the output only when a
# command fails, so a broken run still says why.
kit_quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    kit_die "command failed: $*"
  fi
}

# Debian installs the module in two places depending on the package version;
# PARAPHE_SOFTHSM_MODULE lets other distributions point at theirs. We do not
# read PARAPHE_TEST_MODULE here: a shell that sourced another kit's env (the
# virtual PIV card's OpenSC module, say) would hand us the wrong module.
kit_find_module() {
  local m
  for m in "${PARAPHE_SOFTHSM_MODULE:-}" \
    /usr/lib/softhsm/libsofthsm2.so \
    "/usr/lib/$(uname -m)-linux-gnu/softhsm/libsofthsm2.so" \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/local/lib/softhsm/libsofthsm2.so; do
    if [[ -n $m && -f $m ]]; then
      printf '%s\n' "$m"
      return 0
    fi
  done
  kit_die "libsofthsm2.so not found (apt-get install softhsm2, or set PARAPHE_SOFTHSM_MODULE)"
}

# Run "$@" in the background, in a process group of its own, so that
# kit_stop_jobs can stop it with the openssl it started: an orphan key
# generator finishing later could write its key into the next run's kit.
# The job's PID is left in KIT_JOB.
kit_bg() {
  set -m
  "$@" &
  KIT_JOB=$!
  set +m
}

# EXIT trap: stop what is still running after a failure.
kit_stop_jobs() {
  local pid
  for pid in $(jobs -p); do
    kill -- "-$pid" 2>/dev/null || true
  done
}

# Wipe and recreate the kit directory. Every path we write must be absolute:
# the native host runs in the working directory the browser gives it, where a
# relative SOFTHSM2_CONF or tokendir would point nowhere. We refuse to wipe a
# non-empty directory that we did not make, so a typo cannot delete real work.
kit_prepare_dir() {
  [[ -n ${1:-} ]] || kit_die "missing kit directory"
  KIT_DIR=$(realpath -m -- "$1")
  [[ $KIT_DIR != / && $KIT_DIR != "${HOME:-/}" ]] || kit_die "refusing to use $KIT_DIR"
  if [[ -e $KIT_DIR ]]; then
    [[ -d $KIT_DIR ]] || kit_die "$KIT_DIR exists and is not a directory"
    if [[ ! -e $KIT_DIR/$KIT_MARKER ]] && [[ -n $(ls -A -- "$KIT_DIR") ]]; then
      kit_die "$KIT_DIR is not empty and was not made by this kit: not wiping it"
    fi
    rm -rf -- "$KIT_DIR"
  fi
  mkdir -p -- "$KIT_DIR/tokens" "$KIT_DIR/pki" "$KIT_DIR/.work/ca-db/new"
  : >"$KIT_DIR/$KIT_MARKER"
  KIT_WORK=$KIT_DIR/.work
  : >"$KIT_WORK/ca-db/index.txt"
}

# SoftHSM reads this file at C_Initialize: one per kit keeps runs from seeing
# each other's tokens (or the machine's default /var/lib/softhsm/tokens).
kit_write_softhsm_conf() {
  cat >"$KIT_DIR/softhsm2.conf" <<EOF
# SoftHSM2 configuration of a Paraphe test kit (regenerated, do not edit).
directories.tokendir = $KIT_DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
  export SOFTHSM2_CONF="$KIT_DIR/softhsm2.conf"
}

# %q quoting keeps labels with spaces ("Paraphe Demo") intact when sourced.
kit_write_env() {
  {
    printf '# Paraphe test kit made by %s: source it (. %s/env).\n' "${0##*/}" "$KIT_DIR"
    printf '# Test-only values, regenerated at each run.\n'
    printf 'export SOFTHSM2_CONF=%q\n' "$KIT_DIR/softhsm2.conf"
    printf 'export PARAPHE_TEST_MODULE=%q\n' "$KIT_MODULE"
    printf 'export PARAPHE_TEST_PIN=%q\n' "$KIT_PIN"
    printf 'export PARAPHE_TEST_SO_PIN=%q\n' "$KIT_SO_PIN"
    printf 'export PARAPHE_TEST_TOKEN_LABEL=%q\n' "$KIT_LABEL"
    printf 'export PARAPHE_TEST_KIT_DIR=%q\n' "$KIT_DIR"
    printf 'export PARAPHE_TEST_CA=%q\n' "$KIT_DIR/pki/ca.crt"
  } >"$KIT_DIR/env"
}

# 16 random bytes with the top bit cleared (a DER INTEGER must stay positive)
# and the next one set (so it always encodes on exactly 16 bytes).
kit_serial() {
  local hex
  hex=$(openssl rand -hex 16)
  printf '%02X%s\n' $(((0x${hex:0:2} & 0x3F) | 0x40)) "${hex:2}"
}

# openssl x509/req only start certificates "now" in OpenSSL 3.0; openssl ca can
# back-date them, which keeps a test from failing on a clock a second behind.
kit_dates() {
  KIT_NOT_BEFORE=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
  KIT_NOT_AFTER_EE=$(date -u -d '+3 years' +%Y%m%d%H%M%SZ)
  KIT_NOT_AFTER_CA=$(date -u -d '+10 years' +%Y%m%d%H%M%SZ)
}

# Write the openssl ca configuration; extension sections come on stdin.
# $1: message digest for signatures.
kit_write_ca_config() {
  local md=$1
  {
    cat <<EOF
# openssl ca configuration of a Paraphe test kit (regenerated).
[ca]
default_ca = kit_ca

[kit_ca]
database = $KIT_WORK/ca-db/index.txt
new_certs_dir = $KIT_WORK/ca-db/new
serial = $KIT_WORK/ca-db/serial
certificate = $KIT_DIR/pki/ca.crt
private_key = $KIT_DIR/pki/ca.key
default_md = $md
policy = kit_policy
# Three certificates of one holder share a subject, as on real cards.
unique_subject = no
email_in_dn = yes
copy_extensions = none

[kit_policy]
commonName = supplied

[kit_ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

EOF
    cat
  } >"$KIT_WORK/openssl.cnf"
}

# Self-signed root, also written as DER beside the PEM.
# $1 key file, $2 subject ("/C=FR/O=.../CN=..."), $3 output PEM (*.crt).
kit_make_ca() {
  kit_serial >"$KIT_WORK/ca-db/serial"
  kit_csr "$1" "$2" "$KIT_WORK/ca.csr"
  kit_quiet openssl ca -batch -notext -utf8 -preserveDN -selfsign \
    -config "$KIT_WORK/openssl.cnf" -keyfile "$1" -extensions kit_ca_ext \
    -startdate "$KIT_NOT_BEFORE" -enddate "$KIT_NOT_AFTER_CA" \
    -in "$KIT_WORK/ca.csr" -out "$3"
  kit_quiet openssl x509 -in "$3" -outform DER -out "${3%.crt}.der"
}

# Certificate request for a key we hold. Kept apart from kit_sign so requests
# can be made in parallel while openssl ca, whose database is not safe to
# share, signs one at a time. $1 private key, $2 subject, $3 output CSR.
kit_csr() {
  kit_quiet openssl req -new -utf8 -key "$1" -subj "$2" -out "$3"
}

# Sign a request with the kit CA. $1 CSR, $2 extension section, $3 output PEM.
kit_sign() {
  kit_serial >"$KIT_WORK/ca-db/serial"
  kit_quiet openssl ca -batch -notext -utf8 -preserveDN \
    -config "$KIT_WORK/openssl.cnf" -extensions "$2" \
    -startdate "$KIT_NOT_BEFORE" -enddate "$KIT_NOT_AFTER_EE" \
    -in "$1" -out "$3"
}

# Issue a certificate for a public key only (the private key lives on a token
# and openssl cannot use it). The request must still carry a valid signature,
# so it is signed with the CA's own key and -force_pubkey swaps the key in.
# openssl x509 cannot back-date: these certificates start "now".
# $1 public key PEM, $2 subject, $3 extension section, $4 output PEM,
# $5 message digest.
kit_issue_for_pubkey() {
  local csr
  csr=$KIT_WORK/$(basename -- "$4").csr
  kit_quiet openssl req -new -utf8 -key "$KIT_DIR/pki/ca.key" -subj "$2" -out "$csr"
  kit_quiet openssl x509 -req -in "$csr" -force_pubkey "$1" \
    -CA "$KIT_DIR/pki/ca.crt" -CAkey "$KIT_DIR/pki/ca.key" \
    -set_serial "0x$(kit_serial)" -days 1096 "-$5" \
    -extfile "$KIT_WORK/openssl.cnf" -extensions "$3" -out "$4"
}

# SoftHSM is not safe for concurrent processes on one token: a C_Login
# rewrites the token file while other processes read it, and they then fail
# with "no token" or CKR_GENERAL_ERROR. Every token access here is sequential.
kit_p11() {
  kit_quiet pkcs11-tool --module "$KIT_MODULE" --token-label "$KIT_LABEL" "$@"
}

kit_p11_user() {
  kit_p11 --login --pin "$KIT_PIN" "$@"
}

# Export a token public key as PEM. $1 CKA_ID (hex), $2 output PEM.
kit_export_pubkey() {
  local der=$KIT_WORK/$1.pub.der params point
  if pkcs11-tool --module "$KIT_MODULE" --token-label "$KIT_LABEL" \
    --read-object --type pubkey --id "$1" -o "$der" >/dev/null 2>&1 &&
    openssl pkey -pubin -inform DER -in "$der" -out "$2" 2>/dev/null; then
    return 0
  fi
  # OpenSC 0.23 cannot export EC public keys ("cannot create EVP_PKEY" under
  # OpenSSL 3): rebuild the SubjectPublicKeyInfo from CKA_EC_PARAMS (a DER
  # curve OID) and CKA_EC_POINT (a DER OCTET STRING around the point).
  read -r params point < <(
    pkcs11-tool --module "$KIT_MODULE" --token-label "$KIT_LABEL" --list-objects 2>/dev/null |
      awk -v id="$1" '
        /^[A-Z]/ { ec = /^Public Key Object; EC/; point = ""; params = "" }
        ec && /^[ \t]+EC_POINT:/ { point = $2 }
        ec && /^[ \t]+EC_PARAMS:/ { params = $2 }
        ec && /^[ \t]+ID:/ && $2 == id { print params, point; exit }'
  ) || true
  [[ -n ${params:-} && -n ${point:-} ]] || kit_die "no public key with id $1 on the token"
  kit_hex_asn1 "$params" | grep -q 'OBJECT' || kit_die "key $1: EC_PARAMS is not a named curve"
  cat >"$KIT_WORK/$1.spki.cnf" <<EOF
asn1 = SEQUENCE:spki
[spki]
algorithm = SEQUENCE:algorithm
key = FORMAT:HEX,BITSTRING:$(kit_hex_asn1 "$point" | sed -n 's/.*OCTET STRING *\[HEX DUMP\]://p')
[algorithm]
type = OID:id-ecPublicKey
curve = OID:$(kit_hex_asn1 "$params" | sed -n 's/.*OBJECT *://p' | tr -d ' ')
EOF
  kit_quiet openssl asn1parse -genconf "$KIT_WORK/$1.spki.cnf" -out "$der" -noout
  kit_quiet openssl pkey -pubin -inform DER -in "$der" -out "$2"
}

# Parse DER given as hex (basenc is in coreutils; xxd is not always there).
kit_hex_asn1() {
  printf '%s' "$1" | tr a-f A-F | basenc --base16 -d | openssl asn1parse -inform DER
}

kit_init_token() {
  kit_quiet softhsm2-util --init-token --free --label "$KIT_LABEL" \
    --so-pin "$KIT_SO_PIN" --pin "$KIT_PIN"
}

# Print the token's objects as "type id label access..." lines, one per object,
# from pkcs11-tool's multi-line listing (its --type/--id filters are ignored
# by --list-objects in OpenSC 0.23).
kit_list_objects() {
  pkcs11-tool --module "$KIT_MODULE" --token-label "$KIT_LABEL" \
    --login --pin "$KIT_PIN" --list-objects 2>/dev/null |
    awk '
      function flush() { if (type != "") print type, id, access; type = ""; id = "-"; access = "" }
      /^[A-Z]/ { flush(); type = ($1 == "Certificate") ? "cert" : ($1 == "Private") ? "privkey" : ($1 == "Public") ? "pubkey" : $1 }
      /^[ \t]+ID:/ { id = $2 }
      /^[ \t]+Access:/ { sub(/^[ \t]+Access:[ \t]*/, ""); gsub(/, /, ","); access = $0 }
      END { flush() }'
}

# Fail unless the token holds exactly the expected "type id" objects. Cheap
# (one pkcs11-tool run) and catches a pkcs11-tool that silently drops a flag.
# $@: expected "type id" pairs.
kit_expect_objects() {
  local listing want got
  listing=$(kit_list_objects) || kit_die "cannot list the objects of token $KIT_LABEL"
  want=$(printf '%s\n' "$@" | sort)
  got=$(awk '{ print $1, $2 }' <<<"$listing" | sort)
  [[ $want == "$got" ]] || kit_die "token objects differ from the plan:
want:
$want
got:
$got"
  KIT_OBJECTS=$listing
}
