#!/usr/bin/env bash
# Regenerates the LiberSign seeds (fuzz/seeds/libersign_plan/): `signatureInformations` as
# s2low, iParapheur 4 and Pastell send them (CMS with and without a `.p7s` to co-sign, PES
# V2 XAdES current and legacy, several digests per entry), a few broken ones (`bad-*`), and
# the `.p7s` alone as binary. The `.p7s` is a detached CMS SignedData made by openssl with a
# throwaway self-signed key (CN under the test kit's policy arc, never a real CA's), over
# a short text; the key is thrown away. Needs OpenSSL 3 and python3.
#   fuzz/seeds/make-libersign.sh
set -euo pipefail
cd "$(dirname "$0")/libersign_plan"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

printf 'Acte 2026-118 : deliberation du conseil municipal' >"$work/acte.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/k.pem" \
    -subj "/C=FR/O=Paraphe Test/CN=Premier signataire" -days 3650 \
    -addext "keyUsage=critical,nonRepudiation" \
    -addext "certificatePolicies=2.25.329800735698586629295641978511506172918.2.2" \
    -out "$work/c.pem" 2>/dev/null
openssl cms -sign -binary -md sha256 -in "$work/acte.txt" -signer "$work/c.pem" -inkey "$work/k.pem" \
    -outform DER -out cosign.p7s
sha256=$(openssl dgst -sha256 -r "$work/acte.txt" | cut -d' ' -f1)
sha1=$(openssl dgst -sha1 -r "$work/acte.txt" | cut -d' ' -f1)
p7s=$(base64 -w0 cosign.p7s)

SHA256="$sha256" SHA1="$sha1" P7S="$p7s" python3 - <<'PY'
import json, os
sha256, sha1, p7s = os.environ["SHA256"], os.environ["SHA1"], os.environ["P7S"]
other = "ab" * 32
pes = {
    "hash": sha256, "pesid": "BORD-1", "pespolicyid": "urn:oid:1.2.250.1.131.1.5.18.21.1.7",
    "pespolicydesc": "Politique de signature Helios de la DGFiP",
    "pespolicyhash": "roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=",
    "pesspuri": "https://www.collectivites-locales.gouv.fr/ps_helios_dgfip.pdf",
    "pescity": "Saint-Étienne", "pespostalcode": "42000", "pescountryname": "France",
    "pesclaimedrole": "Ordonnateur", "pesencoding": "iso-8859-1",
    "format": "xades-env-1.2.2-sha256", "p7s": None, "iddoc": 12,
}
seeds = {
    "cms-s2low.json": [{"hash": sha1, "format": "CMS"}, {"hash": sha256, "format": "cms", "p7s": "null"}],
    "cms-cosign.json": [{"hash": sha256, "format": "CMS", "p7s": p7s, "iddoc": "acte-118"}],
    "cms-two-digests.json": [{"hash": f"{sha256},{other}", "format": "CMS", "p7s": f"{p7s},{p7s}", "iddoc": 7}],
    "pes-helios.json": [pes],
    "pes-two-bordereaux.json": [dict(pes, hash=f"{sha256}, {other}", pesid="BORD-1,BORD-2", pespuri="x")],
    "pes-legacy-sha1.json": [dict(pes, hash=sha1, format="XADES-env", pesencoding=None, pespolicyid=None)],
    "bad-p7s-count.json": [{"hash": sha256, "format": "CMS", "p7s": f"{p7s},{p7s}"}],
    "bad-format.json": [{"hash": sha256, "format": "PADES-basic"}],
}
for name, value in seeds.items():
    with open(name, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)
PY
