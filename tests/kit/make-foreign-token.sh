#!/usr/bin/env bash
#
# Make a "foreign" SoftHSM token: one set up by someone else, with keys
# generated on the token (never seen by us) and certificates from another CA.
#
#   tests/kit/make-foreign-token.sh DIR
#
# It lets tests check that the host handles tokens it did not provision:
# another label and PIN, other key types and sizes (EC P-384, RSA-3072), other
# CKA_IDs, UTF-8 names and labels, an EC issuer. DIR is wiped and rebuilt like
# make-token.sh's. Test-only material, regenerated at each run: never commit it.

set -euo pipefail

KIT_HOME=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$KIT_HOME/lib.sh"

case ${1:-} in
"" | -h | --help | -*)
  printf 'usage: %s DIR\n' "${0##*/}" >&2
  exit 2
  ;;
esac
(($# == 1)) || { printf 'usage: %s DIR\n' "${0##*/}" >&2; exit 2; }

KIT_LABEL="Foreign Token"
KIT_PIN=987654
KIT_SO_PIN=87654321
KIT_MODULE=$(kit_find_module)
kit_prepare_dir "$1"
kit_write_softhsm_conf
kit_write_env
kit_dates
pki=$KIT_DIR/pki
work=$KIT_WORK

# A failed step must not leave the CA job writing into a half-made kit.
trap kit_stop_jobs EXIT

# --- Plan ---------------------------------------------------------------
# Accented names exercise UTF-8 in subjects (UTF8String) and in CKA_LABEL.
holder="/C=FR/O=Syndicat Intercommunal des Eaux de Ségur/OU=0002 25190001200019"
email=helene.dupre@segur.example
ids=(a1 a2)
declare -A subject=(
  [a1]="$holder/CN=Hélène Dupré/emailAddress=$email"
  [a2]="$holder/CN=Hélène Dupré/emailAddress=$email"
)
declare -A keytype=([a1]=EC:secp384r1 [a2]=rsa:3072)
declare -A label=([a1]="Clé de signature" [a2]="Clé d'authentification")
declare -A usage=([a1]="--usage-sign" [a2]="--usage-sign --usage-decrypt")
declare -A ext=([a1]=ext_a1 [a2]=ext_a2)

# a1 is dual-use (signature + authentication), as many collectivités' keys
# are; a2 authenticates and decrypts. Neither claims an RGS policy.
kit_write_ca_config sha384 <<EOF
[ext_a1]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$email
certificatePolicies = $KIT_POLICY_ARC.9.1, 0.4.0.2042.1.2

[ext_a2]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$email
certificatePolicies = $KIT_POLICY_ARC.9.2
EOF

# --- CA, in parallel with on-token key generation -----------------------
# RSA-3072 generation inside SoftHSM takes about a second; the CA is made
# meanwhile. An EC issuer gives the host ECDSA-signed chains to parse.
make_ca() {
  kit_quiet openssl genpkey -out "$pki/ca.key" -algorithm EC -pkeyopt ec_paramgen_curve:P-384
  kit_make_ca "$pki/ca.key" "/C=FR/O=Foreign Test PKI/CN=Foreign Test CA" "$pki/ca.crt"
}
kit_bg make_ca
ca_job=$KIT_JOB

kit_init_token
for id in "${ids[@]}"; do
  read -r -a flags <<<"${usage[$id]}"
  kit_p11_user --keypairgen --key-type "${keytype[$id]}" \
    --id "$id" --label "${label[$id]}" "${flags[@]}"
done

# --- Certificates for the token's public keys -----------------------------
wait "$ca_job"
for id in "${ids[@]}"; do
  kit_export_pubkey "$id" "$pki/$id.pub.pem"
  kit_issue_for_pubkey "$pki/$id.pub.pem" "${subject[$id]}" "${ext[$id]}" "$pki/$id.crt" sha384
  kit_quiet openssl x509 -in "$pki/$id.crt" -outform DER -out "$work/$id.crt.der"
  kit_p11_user --write-object "$work/$id.crt.der" --type cert \
    --id "$id" --label "${label[$id]}"
done

# --- Check --------------------------------------------------------------
kit_expect_objects {privkey,pubkey,cert}\ a{1,2}
kit_quiet openssl verify -CAfile "$pki/ca.crt" "$pki/a1.crt" "$pki/a2.crt"
# The EC public key was rebuilt by hand (see kit_export_pubkey): prove it is
# the token's own by verifying a token signature with it.
# SoftHSM 2.6 has no ECDSA-SHA256 mechanism: hash here, sign with CKM_ECDSA.
printf 'foreign kit self-test\n' >"$work/data"
kit_quiet openssl dgst -sha256 -binary -out "$work/data.sha256" "$work/data"
kit_p11_user --sign --id a1 --mechanism ECDSA --signature-format openssl \
  -i "$work/data.sha256" -o "$work/data.sig"
kit_quiet openssl dgst -sha256 -verify "$pki/a1.pub.pem" -signature "$work/data.sig" "$work/data"

rm -rf -- "$work"
printf 'Token "%s" ready in %s (source %s/env)\n' "$KIT_LABEL" "$KIT_DIR" "$KIT_DIR"
