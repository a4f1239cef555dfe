#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
#
# Provision the virtual PIV card (virtual_piv_card.py, running and connected to vpcd):
#   slot 9A (PIV Authentication): RSA-2048 key made on the card + certificate
#       -> PKCS#11 CKA_ID 01: digitalSignature, keyEncipherment, clientAuth (sign + decrypt)
#   slot 9C (Digital Signature): EC P-256 key made on the card + certificate
#       -> PKCS#11 CKA_ID 02: nonRepudiation; OpenSC marks it CKA_ALWAYS_AUTHENTICATE,
#          like the qualified signing keys of real cards (PIN for every signature)
# plus a CHUID (so OpenSC shows a token serial number), with the card's factory PIN
# 123456, PUK 12345678 and the default management key.
#
#   provision.sh DIR [READER]      (READER defaults to "Virtual PCD 00 00")
#
# The certificates are issued by a small test CA made in DIR/pki (kept if already there).
# jcecard 0.1.0 keeps PIV keys in memory only: run this after every start of the bridge
# (card.sh start does). Removing and inserting the card (USR1/USR2) keeps them.
#
# DIR/pki afterwards: ca.key ca.crt, 01.crt 01.pub.pem (slot 9A), 02.crt 02.pub.pem (9C).
# Everything there is throwaway test material.
set -euo pipefail

die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }
[[ -n ${1:-} ]] || die "usage: provision.sh DIR [READER]"
DIR=$(realpath -m -- "$1")
READER=${2:-Virtual PCD 00 00}
PKI=$DIR/pki
MGM_KEY=010203040506070801020304050607080102030405060708 # PIV default (3DES)
# Our own test OID arc (tests/kit/lib.sh): test policies can never pass for real RGS ones.
ARC=2.25.329800735698586629295641978511506172918
mkdir -p -- "$PKI"

# Keep a tool's output unless it fails, so a broken run still says why.
quiet() {
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "failed: $*"; }
}
piv() { quiet yubico-piv-tool -r "$READER" --key="$MGM_KEY" "$@"; }

cat >"$PKI/ext.cnf" <<EOF
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[auth]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
certificatePolicies = $ARC.2.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[sign]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
certificatePolicies = $ARC.2.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# An EC CA: made in a few milliseconds, and the host does not care what signed the cards.
if [[ ! -s $PKI/ca.key || ! -s $PKI/ca.crt ]]; then
  quiet openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -sha256 \
    -subj "/C=FR/O=Paraphe Test/CN=AC Carte Virtuelle Paraphe Test" \
    -config "$PKI/ext.cnf" -extensions ca
fi

SUBJECT="/C=FR/O=Mairie de Testville/OU=0002 21750001600001/CN=Dominique Carte"
# One holder, two certificates with one subject, as on real cards. OpenSC names the token
# after the 9A certificate's CN (32 characters at most).
# $1 slot, $2 algorithm, $3 CKA_ID OpenSC gives that slot, $4 extension section
issue() {
  piv -a generate -s "$1" -A "$2" -o "$PKI/$3.pub.pem"
  quiet openssl x509 -new -force_pubkey "$PKI/$3.pub.pem" -subj "$SUBJECT" \
    -set_serial "0x$(openssl rand -hex 8)" -days 1095 -sha256 \
    -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -extfile "$PKI/ext.cnf" -extensions "$4" -out "$PKI/$3.crt"
  piv -a import-certificate -s "$1" -i "$PKI/$3.crt"
}
issue 9a RSA2048 01 auth
issue 9c ECCP256 02 sign
# A CHUID with a random GUID: OpenSC derives the token serial number from it.
piv -a set-chuid
