"""A XAdES jeton signed with RSA-PSS (RFC 6931 `sha256-rsa-MGF1`), which xmlsec1 1.2 cannot
make: the xmlsec1-made jeton `acte.txt.xml` with its SignatureMethod changed, its SignedInfo
canonicalised by lxml (libxml2's exclusive C14N, lxml comes with pyHanko's venv), and signed by
`openssl dgst -sign` (PSS, MGF1 with SHA-256, salt 32 bytes). Run by make-samples.sh through
scripts/pyhanko.sh:  xades_pss.py OUT_DIR"""
import base64
import pathlib
import subprocess
import sys

from lxml import etree

d = pathlib.Path(sys.argv[1])
ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
doc = etree.parse(str(d / "acte.txt.xml"))
signed_info = doc.find(".//ds:SignedInfo", ns)
signed_info.find("ds:SignatureMethod", ns).set("Algorithm", "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1")
canonical = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
signature = subprocess.run(
    ["openssl", "dgst", "-sha256", "-sign", str(d / "rsa.key"), "-sigopt", "rsa_padding_mode:pss",
     "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256"],
    input=canonical, capture_output=True, check=True).stdout
doc.find(".//ds:SignatureValue", ns).text = base64.b64encode(signature).decode()
doc.write(str(d / "acte.txt.pss.xml"), xml_declaration=True, encoding="UTF-8")
