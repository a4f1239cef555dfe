"""Test samples for « Vérifier une signature », signed by pyHanko (an independent PAdES
implementation): a small PDF made here, signed once, then signed again in an incremental
update (two signatures).

    pyhanko_sign.py OUT_DIR KEY CERT CHAIN...
writes OUT_DIR/plain.pdf, signed.pdf (one signature), signed-twice.pdf (two).
"""
import sys
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def plain_pdf() -> bytes:
    """A one-page PDF with a classic cross-reference table."""
    text = b"BT /F1 24 Tf 72 720 Td (Acte de test Paraphe) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def sign(data: bytes, signer, field: str) -> bytes:
    import io

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    out = io.BytesIO()
    signers.sign_pdf(writer, meta, signer=signer, output=out)
    return out.getvalue()


def main() -> None:
    out_dir, key, cert, *chain = sys.argv[1:]
    out = Path(out_dir)
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=tuple(chain))
    plain = plain_pdf()
    (out / "plain.pdf").write_bytes(plain)
    once = sign(plain, signer, "Signature1")
    (out / "signed.pdf").write_bytes(once)
    (out / "signed-twice.pdf").write_bytes(sign(once, signer, "Signature2"))


if __name__ == "__main__":
    main()
