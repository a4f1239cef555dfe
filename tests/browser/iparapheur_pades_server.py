"""The server side of an iParapheur 4 PAdES signature, for tests/browser/libersign.test.js,
done by pyHanko (an implementation independent of Paraphe's): what iParapheur's server does
around `LiberSign.sign` for a `PADES` / `PADES-basic` dossier (docs/LIBERSIGN.md, « PAdES »).

    iparapheur_pades_server.py prepare IN.pdf OUT.pdf STATE.json SUBFILTER HASH
        Adds an invisible signature field (`SignatureN`, one more than the PDF has) and its
        signature dictionary (`/SubFilter` SUBFILTER:
        `adbe.pkcs7.detached` or `ETSI.CAdES.detached`) with a zero-filled `/Contents`, as an
        incremental update, without knowing who will sign (a fixed room for the CMS), and
        digests the `/ByteRange` with HASH (`sha1`, as iParapheur 4, or `sha256`). Writes the
        prepared PDF to OUT.pdf and STATE.json; prints the digest in lowercase hex: the `hash`
        of the dossier's `signatureInformations`.

    iparapheur_pades_server.py embed PREPARED.pdf STATE.json ANSWER SIGNED.pdf
        ANSWER is what `LiberSign.sign` resolved with for this document (one comma-separated
        part): base64 of a PEM `PKCS7` document. Decodes it to the DER SignedData and writes it
        into the placeholder: SIGNED.pdf.
"""
import asyncio
import base64
import io
import json
import re
import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

# Room for the CMS, hex digits (the server does not know the certificate yet).
RESERVED = 16384
SUBFILTERS = {
    "adbe.pkcs7.detached": SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    "ETSI.CAdES.detached": SigSeedSubFilter.PADES,
}


def prepare(src, dst, state, subfilter, md):
    with open(src, "rb") as f:
        writer = IncrementalPdfFileWriter(io.BytesIO(f.read()))
    # One new field per signatory of the circuit.
    field = "Signature%d" % (len(writer.prev.embedded_signatures) + 1)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SUBFILTERS[subfilter], md_algorithm=md)
    # Nobody signs here: the signer only stands for the certificate the server does not know.
    signer = signers.ExternalSigner(signing_cert=None, cert_registry=None, signature_value=b"")
    pdf_signer = signers.PdfSigner(meta, signer=signer)
    digest, _tbs, output = asyncio.run(pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=RESERVED))
    with open(dst, "wb") as out:
        out.write(output.getvalue())
    with open(state, "w") as out:
        json.dump(
            {
                "digest": digest.document_digest.hex(),
                "start": digest.reserved_region_start,
                "end": digest.reserved_region_end,
            },
            out,
        )
    print(digest.document_digest.hex())


def der_of(answer):
    """base64 of a PEM PKCS7 document → DER (what the platform's own clients send)."""
    pem = base64.b64decode(answer, validate=True).decode("ascii")
    m = re.fullmatch(r"-----BEGIN PKCS7-----\n([A-Za-z0-9+/=\n]+)-----END PKCS7-----\n?", pem)
    if not m:
        raise SystemExit(f"not a PEM PKCS7 document: {pem[:40]!r}")
    return base64.b64decode(m.group(1).replace("\n", ""), validate=True)


def embed(prepared, state, answer, dst):
    with open(state) as f:
        s = json.load(f)
    digest = PreparedByteRangeDigest(
        document_digest=bytes.fromhex(s["digest"]),
        reserved_region_start=s["start"],
        reserved_region_end=s["end"],
    )
    with open(prepared, "rb") as f:
        output = io.BytesIO(f.read())
    PdfTBSDocument.finish_signing(output, digest, der_of(answer))
    with open(dst, "wb") as out:
        out.write(output.getvalue())


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"prepare": prepare, "embed": embed}[command](*args)
