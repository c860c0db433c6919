#!/usr/bin/env python3
"""Validates every signature of a PDF with pyHanko, the independent validator of the signing tests
(poppler's pdfsig is the other), and prints one JSON object to stdout.

    .venv/bin/python scripts/check_pdf_signature.py --trust ca.pem [--trust other.pem] [-v] FILE.pdf

Only the certificates of the --trust files (PEM, one or more certificates each, or DER) are trust
anchors: never the system's list. Nothing is fetched from the network, and revocation is not required
(revocation_mode 'soft-fail'). The key usage rule is pyHanko's default: the signer's certificate must
have nonRepudiation. A signature timestamp (PAdES B-T) is checked against the same trust anchors, so
give the TSA's root with --trust too.

Output (signatures in the order of the revisions they sign, oldest first):

    {"signatures": [{"field": "Signature1", "type": "/Sig", "intact": true, "valid": true,
                     "trusted": true, "coverage": "ENTIRE_FILE", "modification_level": "NONE",
                     "signer": "Common Name: ..., ...", "signing_time": "2026-...+00:00",
                     "timestamp_valid": null, "timestamp_time": null, "docmdp_ok": true,
                     "summary": "INTACT:TRUSTED,UNTOUCHED", "bottom_line": true,
                     "subfilter": "/ETSI.CAdES.detached", "digest_algorithm": "sha256",
                     "signature_mechanism": "sha256_rsa", "trust_problem": null, "error": null}],
     "file_ok": true}

  intact     the /ByteRange digest matches the signed messageDigest
  valid      the CMS signature over the signed attributes verifies
  trusted    intact, valid, and a path to a --trust anchor (key usage and validity dates checked)
  coverage   pyHanko's SignatureCoverageLevel: ENTIRE_FILE, ENTIRE_REVISION (later incremental
             updates), CONTIGUOUS_BLOCK_FROM_START (bytes after the signed revision that are not a
             proper revision), UNCLEAR (odd /ByteRange)
  timestamp_valid  null without a signature timestamp, else intact + valid + trusted of the token
  bottom_line      pyHanko's overall judgement (trusted, timestamp, DocMDP and seed values all fine)
  error      null, or why the signature could not be validated at all (then intact/valid/trusted false)
  file_ok    there is at least one signature, every one has bottom_line true, and the newest one
             (the last listed) covers the ENTIRE_FILE: pyHanko's bottom line alone accepts junk
             after the signed %%EOF (coverage ENTIRE_REVISION, modification_level NONE)

A /DocTimeStamp (document timestamp) is listed too, with "type": "/DocTimeStamp", the TSA as signer
and its time as signing_time.

Exit status: 0 when the file was parsed (whatever the signatures' validity), 2 on a usage error, an
unreadable --trust file or a PDF that cannot be parsed (message on stderr). -v logs pyHanko's warnings
and its detailed report of each signature to stderr.
"""
import argparse
import json
import logging
import sys


def die(msg):
    print(f"check_pdf_signature: {msg}", file=sys.stderr)
    sys.exit(2)


def describe(e):
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def load_roots(paths):
    from asn1crypto import pem, x509

    roots = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            die(f"cannot read --trust {path}: {e.strerror}")
        try:
            if pem.detect(data):
                ders = [der for kind, _, der in pem.unarmor(data, multiple=True)
                        if kind == "CERTIFICATE"]
            else:
                ders = [data]
            certs = [x509.Certificate.load(der) for der in ders]
            for cert in certs:
                cert.native  # parse it fully now, not in the middle of validation
        except Exception as e:
            die(f"--trust {path} is not a certificate: {describe(e)}")
        if not certs:
            die(f"--trust {path} holds no certificate")
        roots.extend(certs)
    return roots


def iso(dt):
    return dt.isoformat() if dt is not None else None


def enum_name(value):
    return value.name if value is not None else None


def error_entry(field, sig_type, subfilter, signer, error):
    return {"field": field, "type": sig_type, "intact": False, "valid": False, "trusted": False,
            "coverage": None, "modification_level": None, "signer": signer, "signing_time": None,
            "timestamp_valid": None, "timestamp_time": None, "docmdp_ok": None,
            "summary": "ERROR", "bottom_line": False, "subfilter": subfilter,
            "digest_algorithm": None, "signature_mechanism": None, "trust_problem": None,
            "error": error}


def tst_ok(ts):
    return bool(ts.intact and ts.valid and ts.trusted)


def check_one(reader, field, sig_obj_ref, sig_field, make_vc, verbose):
    from pyhanko.pdf_utils.generic import NameObject
    from pyhanko.sign.validation import (EmbeddedPdfSignature, validate_pdf_signature,
                                         validate_pdf_timestamp)

    sig_type = subfilter = signer = revision = None
    try:
        sig_obj = sig_obj_ref.get_object()
        sig_type = str(sig_obj.get("/Type", NameObject("/Sig")))
        subfilter = sig_obj.get("/SubFilter")
        subfilter = str(subfilter) if subfilter is not None else None
        emb = EmbeddedPdfSignature(reader, sig_field, field)
        revision = emb.signed_revision
        try:
            signer = emb.signer_cert.subject.human_friendly
        except Exception:
            signer = None
        if sig_type == "/DocTimeStamp":
            status = validate_pdf_timestamp(emb, validation_context=make_vc())
        else:
            vc = make_vc()
            status = validate_pdf_signature(emb, signer_validation_context=vc,
                                            ts_validation_context=vc)
    except Exception as e:
        if verbose:
            logging.exception("signature %s", field)
        return revision, error_entry(field, sig_type, subfilter, signer, describe(e))

    if verbose:
        try:
            print(f"--- {field} ---\n{status.pretty_print_details()}", file=sys.stderr)
        except Exception:
            pass
    trust_problem = status.trust_problem_indic
    entry = {
        "field": field,
        "type": sig_type,
        "intact": bool(status.intact),
        "valid": bool(status.valid),
        "trusted": bool(status.trusted),
        "coverage": enum_name(status.coverage),
        "modification_level": enum_name(status.modification_level),
        "signer": status.signing_cert.subject.human_friendly,
        "subfilter": subfilter,
        "digest_algorithm": status.md_algorithm,
        "signature_mechanism": status.pkcs7_signature_mechanism,
        "trust_problem": enum_name(trust_problem) if trust_problem is not None else None,
        "error": None,
    }
    if sig_type == "/DocTimeStamp":
        entry.update({
            "signing_time": iso(status.timestamp),
            "timestamp_valid": tst_ok(status),
            "timestamp_time": iso(status.timestamp),
            "docmdp_ok": status.docmdp_ok,
            "summary": status.summary(),
            "bottom_line": tst_ok(status) and status.docmdp_ok is not False,
        })
    else:
        ts = status.timestamp_validity
        entry.update({
            "signing_time": iso(status.signer_reported_dt),
            "timestamp_valid": tst_ok(ts) if ts is not None else None,
            "timestamp_time": iso(ts.timestamp) if ts is not None else None,
            "docmdp_ok": status.docmdp_ok,
            "summary": status.summary(),
            "bottom_line": bool(status.bottom_line),
        })
    return revision, entry


def main():
    ap = argparse.ArgumentParser(
        prog="check_pdf_signature.py",
        description="Validate every signature of a PDF with pyHanko; prints one JSON object.")
    ap.add_argument("--trust", action="append", required=True, metavar="CA.pem",
                    help="a trust anchor (PEM or DER certificate file); repeat for more")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="pyHanko's warnings and detailed reports on stderr")
    ap.add_argument("pdf", metavar="FILE.pdf")
    args = ap.parse_args()

    logging.basicConfig(stream=sys.stderr,
                        level=logging.WARNING if args.verbose else logging.CRITICAL + 1)
    try:
        sys.stdout.reconfigure(encoding="utf-8")
    except AttributeError:
        pass
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.fields import enumerate_sig_fields
        from pyhanko_certvalidator import ValidationContext
    except ImportError as e:
        die(f"pyHanko is not installed ({e}); run scripts/install-deps.sh and use .venv/bin/python")

    roots = load_roots(args.trust)

    def make_vc():
        # a fresh context for each signature: a context caches paths and revocation info
        return ValidationContext(trust_roots=list(roots), allow_fetching=False,
                                 revocation_mode="soft-fail")

    try:
        f = open(args.pdf, "rb")
    except OSError as e:
        die(f"cannot open {args.pdf}: {e.strerror}")
    with f:
        try:
            reader = PdfFileReader(f)
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as e:
            die(f"cannot parse {args.pdf}: {describe(e)}")
        checked = [check_one(reader, name, sig_obj, sig_field, make_vc, args.verbose)
                   for name, sig_obj, sig_field in fields]
    # oldest revision first; one that could not be read at all goes last
    checked.sort(key=lambda rc: (rc[0] is None, rc[0] or 0))
    signatures = [entry for _, entry in checked]

    # pyHanko itself accepts bytes after the newest signature's revision that are no incremental
    # update (coverage ENTIRE_REVISION, bottom line still true): file_ok does not
    result = {"signatures": signatures,
              "file_ok": bool(signatures) and all(s["bottom_line"] for s in signatures)
                         and signatures[-1]["coverage"] == "ENTIRE_FILE"}
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
