#!/usr/bin/env python3
"""Signs a PDF with pyHanko, as another signing tool would, for the tests of
`sohoa verify` on signatures it did not make (other curves and digests).

    .venv/bin/python scripts/pyhanko_sign.py IN.pdf OUT.pdf KEY.pem CERT.pem CA.pem DIGEST [TSA_URL]

DIGEST: sha256, sha384 or sha512. A PAdES signature (/ETSI.CAdES.detached) in
an incremental update, the CA certificate in its chain; with TSA_URL, time-
stamped by that RFC 3161 authority (B-T).
"""
import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def main():
    src, out, key, cert, ca, digest = sys.argv[1:7]
    stamper = None
    if len(sys.argv) > 7 and sys.argv[7]:
        from pyhanko.sign.timestamps import HTTPTimeStamper
        stamper = HTTPTimeStamper(sys.argv[7])
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca,), key_passphrase=None)
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm=digest,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    with open(src, "rb") as f, open(out, "wb") as o:
        signers.sign_pdf(IncrementalPdfFileWriter(f), meta, signer=signer, output=o,
                         timestamper=stamper)


if __name__ == "__main__":
    main()
