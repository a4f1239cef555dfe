"""pyHanko as the independent PAdES signer and validator of formats/tests/pades.rs.

    pyhanko_tool.py sign IN OUT KEY CERT [CHAIN…]   PAdES B-B signature in field "Signature1"
    pyhanko_tool.py certify IN OUT KEY CERT [CHAIN…]  the same, a certification allowing no change
    pyhanko_tool.py validate [--allow-sha1] PDF ROOT [OTHER…]
                                                    every signature, one JSON line each
                                                    (with its signature time-stamp's status);
                                                    exit 1 unless all are intact, valid, trusted
                                                    and allowed by the later revisions.
                                                    --allow-sha1: SHA-1 digests are accepted
                                                    (pyHanko refuses them by default; iParapheur 4
                                                    signs PDFs with SHA-1)
"""
import json
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def sign(src, dst, key, cert, *chain, certify=False):
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=chain)
    with open(src, "rb") as f:
        writer = IncrementalPdfFileWriter(f)
        extra = {"certify": True, "docmdp_permissions": MDPPerm.NO_CHANGES} if certify else {}
        meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES, **extra)
        with open(dst, "wb") as out:
            signers.sign_pdf(writer, meta, signer=signer, output=out)


def timestamp(ts):
    if ts is None:
        return None
    return {"intact": ts.intact, "valid": ts.valid, "trusted": ts.trusted, "time": ts.timestamp.isoformat()}


def validate(*args):
    allow_sha1 = args[0] == "--allow-sha1"
    path, root, *others = args[1:] if allow_sha1 else args
    # pyHanko's default weak digests are md2, md5 and sha1.
    weak = {"weak_hash_algos": ["md2", "md5"]} if allow_sha1 else {}
    vc = ValidationContext(
        trust_roots=[load_cert_from_pemder(root)],
        other_certs=[load_cert_from_pemder(o) for o in others],
        allow_fetching=False,
        revocation_mode="soft-fail",
        **weak,
    )
    ok = True
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        sigs = reader.embedded_signatures
        if not sigs:
            print(json.dumps({"error": "no signature"}))
            return 1
        for sig in sigs:
            status = validate_pdf_signature(sig, vc)
            line = {
                "field": sig.field_name,
                "subFilter": str(sig.sig_object.get("/SubFilter")),
                "digest": status.md_algorithm,
                "intact": status.intact,
                "valid": status.valid,
                "trusted": status.trusted,
                "coverage": status.coverage.name if status.coverage else None,
                "modificationLevel": status.modification_level.name if status.modification_level else None,
                "docmdpOk": status.docmdp_ok,
                "bottomLine": status.bottom_line,
                # The signature time-stamp (PAdES B-T): validated by pyHanko against the same
                # trust roots, null without one.
                "timestamp": timestamp(status.timestamp_validity),
                "summary": status.summary(),
            }
            print(json.dumps(line))
            if not (status.bottom_line and status.intact and status.valid and status.trusted):
                print(status.pretty_print_details(), file=sys.stderr)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command in ("sign", "certify"):
        sign(*args, certify=command == "certify")
        sys.exit(0)
    sys.exit(validate(*args))
