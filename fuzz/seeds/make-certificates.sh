#!/usr/bin/env bash
# Regenerates the certificate seeds (fuzz/seeds/certificate/*.der): small self-signed
# test certificates with the extensions the host reads (key usage, EKU, policies,
# qcStatements, SAN, basic constraints). Public test material, safe to commit; the keys
# are thrown away. Needs OpenSSL 3.
#   fuzz/seeds/make-certificates.sh
set -euo pipefail
cd "$(dirname "$0")/certificate"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# The test kit's policy arc (tests/kit/lib.sh), never a real CA's.
arc=2.25.329800735698586629295641978511506172918
cat >"$work/ext.cnf" <<CNF
[signing]
basicConstraints = CA:false
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
subjectAltName = email:camille.martin@testville.example
certificatePolicies = $arc.2.2, 0.4.0.194112.1.2
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qc_statements

[authentication]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, emailProtection
certificatePolicies = $arc.2.1

[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

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
CNF

holder="/C=FR/O=Mairie de Testville/OU=0002 21750001600001"
make() { # name key-options extension-section subject
  local name=$1 opts=$2 section=$3 subject=$4
  # shellcheck disable=SC2086 # opts holds several arguments
  openssl req -x509 -new -newkey $opts -nodes -keyout "$work/$name.key" -subj "$subject" \
    -days 1095 -sha256 -extensions "$section" -config "$work/ext.cnf" -outform DER \
    -out "$name.der" 2>/dev/null
}
make ec-p256-signing "ec -pkeyopt ec_paramgen_curve:P-256" signing "$holder/CN=Camille Martin (ECC)"
make rsa-2048-authentication "rsa:2048" authentication "$holder/CN=Camille Martin"
make ed25519-ca "ed25519" ca "/C=FR/O=Paraphe Test/CN=AC Racine Paraphe Test"
ls -l ./*.der
