#!/usr/bin/env bash
# Signatures made ELSEWHERE for the « Vérifier une signature » tests (formats/tests/verify.rs,
# tests/browser/verify.test.js): a throwaway PKI made with openssl, CAdES detached .p7s made
# by `openssl cms -sign`, PAdES PDFs signed by pyHanko (scripts/pyhanko.sh), XAdES detached
# « jetons » signed by `xmlsec1 --sign` from templates (exclusive and inclusive C14N 1.0, RSA
# and ECDSA; RSA-PSS by lxml's C14N and openssl, tests/verify/xades_pss.py), and tampered
# copies. Nothing here is made by Paraphe.
#   tests/verify/make-samples.sh OUT_DIR     (reuses OUT_DIR when it is complete)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: make-samples.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Bump when the samples change: a stale set is made again.
version=4
[ "$(cat "$out/.complete" 2>/dev/null)" = "$version" ] && exit 0
cd "$out"

cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# A signer under ChamberSign France's policy arc, qualified (QcCompliance, QcSSCD,
# QcType esign: ETSI EN 319 412-5), nonRepudiation only.
[rgs]
basicConstraints = critical, CA:FALSE
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.2.250.1.96.1.7.1
1.3.6.1.5.5.7.1.3 = DER:30293008060604008E4601013008060604008E4601043013060604008E4601063009060704008E46010601
# A signer no list knows.
[plain]
basicConstraints = critical, CA:FALSE
keyUsage = critical, nonRepudiation, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.3.6.1.4.1.99999.1
CNF

ossl() { openssl "$@" 2>/dev/null; }
# Root and intermediate, named like RGS CAs are (the level in the CA's name).
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key
ossl req -new -x509 -utf8 -config ext.cnf -extensions root -key root.key -days 3650 -set_serial 1 \
  -subj "/C=FR/O=ChamberSign France/CN=AC Racine Test ChamberSign" -out root.pem
issue() { # name keyargs subject issuer ext serial
  local name=$1 keyargs=$2 subject=$3 issuer=$4 ext=$5 serial=$6
  # shellcheck disable=SC2086
  ossl genpkey $keyargs -out "$name.key"
  ossl req -new -utf8 -config ext.cnf -key "$name.key" -subj "$subject" -out "$name.csr"
  ossl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -set_serial "$serial" -days 1000 \
    -extfile ext.cnf -extensions "$ext" -out "$name.pem"
}
issue ca "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" "/C=FR/O=ChamberSign France/CN=AC ChamberSign France Test - RGS**" root ca 2
issue rsa "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" "/C=FR/O=Commune de Test/CN=Camille Martin" ca rgs 0x81020304
issue ec "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" "/C=FR/O=Entreprise Test/CN=Dominique Bernard" ca plain 77
# Another root, nobody's: to check a chain that reaches no trusted CA.
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
ossl req -new -x509 -utf8 -config ext.cnf -extensions root -key other.key -days 3650 -set_serial 9 \
  -subj "/C=FR/O=Inconnue/CN=AC Inconnue" -out other.pem
# A signer of that unknown CA, under no known policy.
issue unknown "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" "/C=FR/O=Entreprise Test/CN=Claude Petit" other plain 5
openssl x509 -in root.pem -outform DER -out root.der
openssl x509 -in other.pem -outform DER -out other.der

# CAdES detached, by openssl (signed attributes, signing time, the chain included).
printf 'Délibération n° 42 du conseil municipal de Test.\n' > acte.txt
head -c 300000 /dev/urandom > acte.bin
ossl cms -sign -binary -outform DER -md sha256 -in acte.txt -signer rsa.pem -inkey rsa.key -certfile ca.pem -out acte.txt.p7s
ossl cms -sign -binary -outform PEM -md sha256 -in acte.bin -signer ec.pem -inkey ec.key -certfile ca.pem -out acte.bin.p7s.pem
ossl cms -sign -binary -outform DER -md sha256 -in acte.bin -signer ec.pem -inkey ec.key -certfile ca.pem -out acte.bin.p7s
ossl cms -sign -binary -outform DER -md sha256 -in acte.txt -signer unknown.pem -inkey unknown.key -out acte.unknown.p7s
# RSA-PSS, and streamed BER (indefinite lengths).
ossl cms -sign -binary -outform DER -md sha256 -in acte.txt -signer rsa.pem -inkey rsa.key -keyopt rsa_padding_mode:pss \
  -certfile ca.pem -out acte.pss.p7s
ossl cms -sign -binary -stream -outform DER -md sha256 -in acte.txt -signer rsa.pem -inkey rsa.key -certfile ca.pem \
  -out acte.ber.p7s
# Independent check that the samples are what they claim.
ossl cms -verify -binary -inform DER -in acte.txt.p7s -content acte.txt -CAfile root.pem -purpose any -out /dev/null
# Tampered content: one character changed.
sed 's/42/43/' acte.txt > acte-modifie.txt

# PAdES by pyHanko: once, twice (incremental update), and a tampered copy.
"$root/scripts/pyhanko.sh" "$root/tests/verify/pyhanko_sign.py" "$out" rsa.key rsa.pem ca.pem root.pem
python3 - "$out" <<'PY'
import sys, pathlib
d = pathlib.Path(sys.argv[1])
data = (d / "signed.pdf").read_bytes()
assert data.count(b"Acte de test Paraphe") == 1
(d / "signed-tampered.pdf").write_bytes(data.replace(b"Acte de test Paraphe", b"Acte de test Parapha"))
PY

# XAdES detached jetons by xmlsec1, from a template: a Reference to the file by name (xmlsec1
# resolves it against its working directory, this one), and one to the SignedProperties
# (SigningTime, SigningCertificateV2 with the signer certificate's SHA-256).
# The signing time: an hour from now (the certificates were just made), written at +02:00;
# jeton-time.txt has it in UTC, as the verifier must report it.
signing=$(( $(date +%s) + 3600 ))
date -u -d "@$signing" +%Y-%m-%dT%H:%M:%SZ > jeton-time.txt
signing_local=$(date -u -d "@$(( signing + 7200 ))" +%Y-%m-%dT%H:%M:%S+02:00)
jeton_template() { # c14n-uri signature-uri cert.pem file
  local c14n=$1 sigalg=$2 cert=$3 file=$4 digest
  digest=$(openssl x509 -in "$cert" -outform DER | openssl dgst -sha256 -binary | base64 -w0)
  cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Id="sig-1">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="$c14n"/>
    <ds:SignatureMethod Algorithm="$sigalg"/>
    <ds:Reference Id="sig-1-ref" URI="$file">
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue></ds:DigestValue>
    </ds:Reference>
    <ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#sig-1-sp">
      <ds:Transforms><ds:Transform Algorithm="$c14n"/></ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue></ds:DigestValue>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue></ds:SignatureValue>
  <ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>
  <ds:Object>
    <xades:QualifyingProperties Target="#sig-1">
      <xades:SignedProperties Id="sig-1-sp">
        <xades:SignedSignatureProperties>
          <xades:SigningTime>$signing_local</xades:SigningTime>
          <xades:SigningCertificateV2>
            <xades:Cert>
              <xades:CertDigest>
                <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                <ds:DigestValue>$digest</ds:DigestValue>
              </xades:CertDigest>
            </xades:Cert>
          </xades:SigningCertificateV2>
        </xades:SignedSignatureProperties>
        <xades:SignedDataObjectProperties>
          <xades:DataObjectFormat ObjectReference="#sig-1-ref"><xades:MimeType>text/plain</xades:MimeType></xades:DataObjectFormat>
        </xades:SignedDataObjectProperties>
      </xades:SignedProperties>
    </xades:QualifyingProperties>
  </ds:Object>
</ds:Signature>
XML
}
exc=http://www.w3.org/2001/10/xml-exc-c14n#
inc=http://www.w3.org/TR/2001/REC-xml-c14n-20010315
more=http://www.w3.org/2001/04/xmldsig-more
id_attr=(--id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties")
jeton_template "$exc" "$more#rsa-sha256" rsa.pem acte.txt > jeton-exc-rsa.tmpl.xml
xmlsec1 --sign "${id_attr[@]}" --privkey-pem rsa.key,rsa.pem,ca.pem --output acte.txt.xml jeton-exc-rsa.tmpl.xml
jeton_template "$inc" "$more#ecdsa-sha256" ec.pem acte.bin > jeton-c14n-ec.tmpl.xml
xmlsec1 --sign "${id_attr[@]}" --privkey-pem ec.key,ec.pem,ca.pem --output acte.bin.xml jeton-c14n-ec.tmpl.xml
jeton_template "$exc" "$more#rsa-sha256" rsa.pem acte.txt > jeton-exc-rsa-sha1.tmpl.xml
# The same with SHA-1 in the SignedInfo (its digests and rsa-sha1), which must be refused.
sed -i '1,/<\/ds:SignedInfo>/{s|http://www.w3.org/2001/04/xmlenc#sha256|http://www.w3.org/2000/09/xmldsig#sha1|; s|'"$more"'#rsa-sha256|http://www.w3.org/2000/09/xmldsig#rsa-sha1|}' \
  jeton-exc-rsa-sha1.tmpl.xml
xmlsec1 --sign "${id_attr[@]}" --privkey-pem rsa.key,rsa.pem,ca.pem --output acte.txt.sha1.xml jeton-exc-rsa-sha1.tmpl.xml
# Independent check that the jetons are what they claim.
for j in acte.txt.xml acte.bin.xml; do
  xmlsec1 --verify "${id_attr[@]}" --trusted-pem root.pem --untrusted-pem ca.pem "$j" 2>/dev/null
done
# RSA-PSS, which xmlsec1 1.2 does not sign with: lxml's C14N and openssl (xades_pss.py).
"$root/scripts/pyhanko.sh" "$root/tests/verify/xades_pss.py" "$out"
# Tampered jetons: the signing time changed (SignedProperties); a Reference's URI written
# another way that names the same file (SignedInfo); another certificate put in KeyInfo.
python3 - "$out" <<'PY'
import base64, pathlib, sys
d = pathlib.Path(sys.argv[1])
j = (d / "acte.txt.xml").read_text()
def once(text, old, new):
    assert text.count(old) == 1, old
    return text.replace(old, new)
(d / "acte.txt.sp-modifie.xml").write_text(once(j, "+02:00</xades:SigningTime>", "+01:00</xades:SigningTime>"))
(d / "acte.txt.si-modifie.xml").write_text(once(j, 'URI="acte.txt"', 'URI="./acte.txt"'))
def der(pem):
    body = "".join(l for l in (d / pem).read_text().splitlines() if not l.startswith("-----"))
    return body
tag = "ds:X509Certificate" if "<ds:X509Certificate>" in j else "X509Certificate"
a = j.index(f"<{tag}>") + len(tag) + 2
b = j.index(f"</{tag}>")
(d / "acte.txt.autre-cert.xml").write_text(j[:a] + der("unknown.pem") + j[b:])
PY
echo "$version" > .complete
