#!/usr/bin/env bash
#
# Make the Paraphe demo SoftHSM token and its test PKI.
#
#   tests/kit/make-token.sh DIR [--label LABEL] [--pin PIN] [--so-pin SOPIN]
#
# DIR is wiped and rebuilt: softhsm2.conf, tokens/, env (source it), pki/.
# Everything is test-only material, regenerated at each run: never commit it.
# See tests/kit/README.md for what the token holds and why.

set -euo pipefail

KIT_HOME=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$KIT_HOME/lib.sh"

usage() {
  printf 'usage: %s DIR [--label LABEL] [--pin PIN] [--so-pin SOPIN]\n' "${0##*/}" >&2
  exit "${1:-2}"
}

KIT_LABEL="Paraphe Demo"
KIT_PIN=1234
KIT_SO_PIN=12345678
dir=
while (($#)); do
  case $1 in
  --label) KIT_LABEL=${2:?--label needs a value}; shift 2 ;;
  --pin) KIT_PIN=${2:?--pin needs a value}; shift 2 ;;
  --so-pin) KIT_SO_PIN=${2:?--so-pin needs a value}; shift 2 ;;
  -h | --help) usage 0 ;;
  -*) printf 'unknown option: %s\n' "$1" >&2; usage ;;
  *) [[ -z $dir ]] || usage; dir=$1; shift ;;
  esac
done
[[ -n $dir ]] || usage

KIT_MODULE=$(kit_find_module)
kit_prepare_dir "$dir"
kit_write_softhsm_conf
kit_write_env
kit_dates
pki=$KIT_DIR/pki
work=$KIT_WORK

# A failed step must not leave key generators writing into a half-made kit.
trap kit_stop_jobs EXIT

# --- Plan ---------------------------------------------------------------
# The look of a French RGS PKI (subjects with "0002 <SIRET>" OUs, nonRepudiation
# signing certificates, eIDAS qcStatements), under our own test policy arc.
holder="/C=FR/O=Mairie de Testville/OU=0002 21750001600001"
email=camille.martin@testville.example
ids=(01 02 03 04)
declare -A subject=(
  [01]="$holder/CN=Camille Martin/emailAddress=$email"
  [02]="$holder/CN=Camille Martin/emailAddress=$email"
  [03]="$holder/CN=Camille Martin/emailAddress=$email"
  [04]="$holder/CN=Camille Martin (ECC)/emailAddress=$email"
)
declare -A keyopts=(
  [01]="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
  [02]="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
  [03]="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
  [04]="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
)
declare -A ext=([01]=ext_signature [02]=ext_authentication [03]=ext_encryption [04]=ext_signature)
# One CKA_ID per identity, shared by private key, public key and certificate,
# which is how a host pairs them. The labels are what a user sees in a picker.
declare -A label=([01]="Signature" [02]="Authentication" [03]="Encryption" [04]="Signature ECC")
# SoftHSM defaults CKA_SIGN/CKA_DECRYPT/CKA_UNWRAP to true on imported private
# keys and pkcs11-tool 0.23 never sets them false, so these flags only add:
# the host must choose keys by their certificate's key usage, as on real cards.
declare -A usage=(
  [01]="--usage-sign --usage-decrypt"
  [02]="--usage-sign"
  [03]="--usage-sign --usage-decrypt"
  # Qualified signing keys on real cards ask for the PIN at every signature.
  [04]="--usage-sign --always-auth"
)

# qcStatements (RFC 3739 / ETSI EN 319 412-5) has no openssl syntax: it is
# spelt out as DER. QcType's statementInfo is a SEQUENCE OF OID.
kit_write_ca_config sha256 <<EOF
[ext_signature]
basicConstraints = CA:false
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$email
certificatePolicies = $KIT_POLICY_ARC.2.2, 0.4.0.194112.1.2
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qc_statements

[ext_authentication]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$email
certificatePolicies = $KIT_POLICY_ARC.2.1

[ext_encryption]
basicConstraints = CA:false
keyUsage = critical, keyEncipherment, dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$email
certificatePolicies = $KIT_POLICY_ARC.2.3

[qc_statements]
compliance = SEQUENCE:qc_compliance
sscd = SEQUENCE:qc_sscd
type = SEQUENCE:qc_type

[qc_compliance]
id = OID:0.4.0.1862.1.1

[qc_sscd]
id = OID:0.4.0.1862.1.4

[qc_type]
id = OID:0.4.0.1862.1.6
types = SEQUENCE:qc_type_list

[qc_type_list]
esign = OID:0.4.0.1862.1.6.1
EOF

# --- Keys and requests, in parallel ---------------------------------------
# RSA key generation is most of the run time (RSA-3072 alone takes 0.5-1.5 s),
# so each key, with the openssl work that needs only that key, is made in a
# job of its own, and the token imports overlap with the CA key's generation.
make_ca() {
  kit_quiet openssl genpkey -out "$pki/ca.key" -algorithm RSA -pkeyopt rsa_keygen_bits:3072
  kit_make_ca "$pki/ca.key" \
    "/C=FR/O=Paraphe Test/OU=0002 00000000000000/CN=AC Racine Paraphe Test" "$pki/ca.crt"
}

make_ee() { # $1: id
  local id=$1 opts
  read -r -a opts <<<"${keyopts[$id]}"
  kit_quiet openssl genpkey -out "$pki/$id.key" "${opts[@]}"
  # pkcs11-tool reads DER everywhere (its PEM support varies across versions).
  kit_quiet openssl pkey -in "$pki/$id.key" -outform DER -out "$work/$id.key.der"
  kit_quiet openssl pkey -in "$pki/$id.key" -pubout -out "$pki/$id.pub.pem"
  kit_quiet openssl pkey -pubin -in "$pki/$id.pub.pem" -outform DER -out "$work/$id.pub.der"
  kit_csr "$pki/$id.key" "${subject[$id]}" "$work/$id.csr"
}

kit_bg make_ca
ca_job=$KIT_JOB
declare -A ee_job
for id in "${ids[@]}"; do
  kit_bg make_ee "$id"
  ee_job[$id]=$KIT_JOB
done

kit_init_token

# --- Token: keys --------------------------------------------------------
for id in 04 01 02 03; do # the EC key is ready first
  wait "${ee_job[$id]}"
  read -r -a flags <<<"${usage[$id]}"
  kit_p11_user --write-object "$work/$id.key.der" --type privkey \
    --id "$id" --label "${label[$id]}" "${flags[@]}"
  # --always-auth is a private key attribute.
  read -r -a flags <<<"${usage[$id]/--always-auth/}"
  kit_p11_user --write-object "$work/$id.pub.der" --type pubkey \
    --id "$id" --label "${label[$id]}" "${flags[@]}"
done

# --- Certificates -------------------------------------------------------
wait "$ca_job"
for id in "${ids[@]}"; do
  kit_sign "$work/$id.csr" "${ext[$id]}" "$pki/$id.crt"
  kit_quiet openssl x509 -in "$pki/$id.crt" -outform DER -out "$work/$id.crt.der"
  kit_p11_user --write-object "$work/$id.crt.der" --type cert \
    --id "$id" --label "${label[$id]}"
done

# --- Check --------------------------------------------------------------
kit_expect_objects {privkey,pubkey,cert}\ 0{1,2,3,4}
kit_quiet openssl verify -CAfile "$pki/ca.crt" "$pki"/0{1,2,3,4}.crt
grep -q '^privkey 04 .*always authenticate' <<<"$KIT_OBJECTS" ||
  kit_die "key 04 lacks CKA_ALWAYS_AUTHENTICATE (pkcs11-tool too old for --always-auth?)"
if grep -v '^privkey 04 ' <<<"$KIT_OBJECTS" | grep -q 'always authenticate'; then
  kit_die "only key 04 may have CKA_ALWAYS_AUTHENTICATE"
fi

rm -rf -- "$work"
printf 'Token "%s" ready in %s (source %s/env)\n' "$KIT_LABEL" "$KIT_DIR" "$KIT_DIR"
