#!/usr/bin/env bash
# Regenerates the time-stamp response seeds (fuzz/seeds/timestamp_response/*): RFC 3161
# TimeStampResp made by `openssl ts -reply` with a throw-away TSA (extendedKeyUsage critical
# timeStamping), answering requests for the message and nonce the timestamp_response target
# expects (fuzz/src/lib.rs: TSA_SIGNATURE, TSA_NONCE): granted, refused (a policy the authority
# does not accept), and granted without a nonce. Public test material; the key is thrown away.
#   fuzz/seeds/make-timestamps.sh
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p timestamp_response
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
head -c 256 /dev/zero | tr '\0' 'Z' >"$work/message" # 256 bytes 0x5a
imprint=$(openssl dgst -sha256 -r "$work/message" | cut -d' ' -f1)
cat >"$work/ext.cnf" <<CNF
[req]
distinguished_name = dn
[dn]
[tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/tsa.key" -out "$work/tsa.crt" -days 2 \
  -subj '/CN=Paraphe fuzz TSA' -config "$work/ext.cnf" -extensions tsa 2>/dev/null
printf '01\n' >"$work/serial"
cat >"$work/ts.cnf" <<CNF
[tsa]
default_tsa = t
[t]
serial = $work/serial
crypto_device = builtin
signer_cert = $work/tsa.crt
certs = $work/tsa.crt
signer_key = $work/tsa.key
signer_digest = sha256
default_policy = 1.2.250.1.999.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_alg = sha256
CNF
# query NAME [POLICY]: the TimeStampReq of timestamp::request(TSA_SIGNATURE, TSA_NONCE), with a
# reqPolicy when POLICY is given.
query() {
  {
    printf 'asn1 = SEQUENCE:req\n[req]\nversion = INTEGER:1\nimprint = SEQUENCE:imprint\n'
    [ -n "${2:-}" ] && printf 'policy = OID:%s\n' "$2"
    printf 'nonce = INTEGER:0x5E5E5E5E5E5E5E5E\ncertReq = BOOLEAN:true\n'
    printf '[imprint]\nalg = SEQUENCE:alg\nhash = FORMAT:HEX,OCTETSTRING:%s\n[alg]\noid = OID:sha256\n' "$imprint"
  } >"$work/$1.cnf"
  openssl asn1parse -genconf "$work/$1.cnf" -out "$work/$1.tsq" >/dev/null
}
query granted
query refused 1.2.250.1.999.42
openssl ts -query -data "$work/message" -sha256 -cert -no_nonce -out "$work/no-nonce.tsq"
for name in granted refused no-nonce; do
  openssl ts -reply -config "$work/ts.cnf" -queryfile "$work/$name.tsq" -out "timestamp_response/$name.tsr" 2>/dev/null
done
ls timestamp_response
