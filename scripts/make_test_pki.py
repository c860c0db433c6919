#!/usr/bin/env python3
"""Makes the test PKI of the signing tests: a CA and officer certificates
with Vietnamese names, and PKCS#12 files of them as OpenSSL 3 writes them.

    .venv/bin/python scripts/make_test_pki.py OUT_DIR PASSWORD

Writes into OUT_DIR, for each NAME below: NAME.pem (certificate), NAME.key.pem
(PKCS#8, unencrypted), NAME.p12 (`openssl pkcs12 -export` with OpenSSL 3's
defaults: PBES2/AES-256-CBC, HMAC-SHA-256), and NAME-legacy.p12 (3DES, the
form of older tools) for the RSA officer; ca.pem is the trust anchor.

  officer      RSA 2048, valid from 2024 to a year from now, digitalSignature + nonRepudiation
  officer-ec   ECDSA P-256, valid from 2024 to a year from now
  expired      valid in 2020 only
  future       valid from 30 days from now
  no-signing   keyEncipherment only (not for signatures)
  agency       the agency's certificate for SAO Y copies
  non-repudiation  keyUsage nonRepudiation only (the usual one of document-signing certificates)
  officer-p384 ECDSA P-384 (a key sohoa verifies but does not sign with)
  tsa          a time-stamping authority (extendedKeyUsage timeStamping, critical), for
               scripts/test_tsa.py

Uses the `cryptography` package of the project venv (scripts/requirements-test.txt)
and the openssl command.
"""
import datetime
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
# Valid certificates start on a fixed past day, so that tests signing at a
# fixed time (2026-12-02) stay within their validity whatever the day they run.
SINCE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def name(cn, title=None, uid=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
             x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Quảng Bình"),
             x509.NameAttribute(NameOID.LOCALITY_NAME, "Tuyên Hóa"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND xã Cao Quảng")]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def usage(signing):
    """signing: True (digitalSignature + nonRepudiation), "nr" (nonRepudiation only), False."""
    return x509.KeyUsage(digital_signature=signing is True, content_commitment=bool(signing),
                         key_encipherment=not signing, data_encipherment=False,
                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def write(out, stem, key, cert):
    (out / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / f"{stem}.key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def p12(out, stem, password, *extra, suffix=""):
    subprocess.run(["openssl", "pkcs12", "-export", *extra,
                    "-inkey", str(out / f"{stem}.key.pem"), "-in", str(out / f"{stem}.pem"),
                    "-certfile", str(out / "ca.pem"), "-name", stem,
                    "-passout", f"pass:{password}", "-out", str(out / f"{stem}{suffix}.p12")],
                   check=True)


def main():
    out, password = Path(sys.argv[1]), sys.argv[2]
    out.mkdir(parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sohoa (thử nghiệm)"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "CA thử nghiệm của sohoa")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc))
          .not_valid_after(NOW + 3650 * DAY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    write(out, "ca", ca_key, ca)

    leaves = [
        ("officer", "rsa", name("Nguyễn Thị Hồng Nhung", "Công chức Văn phòng - Thống kê",
                                "CCCD:044190000123"), SINCE, NOW + 365 * DAY, True),
        ("officer-ec", "ec", name("Trần Văn Bình", "Công chức Tư pháp - Hộ tịch"),
         SINCE, NOW + 365 * DAY, True),
        ("expired", "rsa", name("Lê Văn Cũ"),
         datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
         datetime.datetime(2020, 12, 31, tzinfo=datetime.timezone.utc), True),
        ("future", "rsa", name("Phạm Thị Sau"), NOW + 30 * DAY, NOW + 365 * DAY, True),
        ("no-signing", "rsa", name("Hoàng Văn Mã"), SINCE, NOW + 365 * DAY, False),
        ("agency", "rsa", name("UBND xã Cao Quảng"), SINCE, NOW + 365 * DAY, True),
        ("non-repudiation", "rsa", name("Đỗ Thị Ký"), SINCE, NOW + 365 * DAY, "nr"),
        ("officer-p384", "ec384", name("Vũ Văn Bốn"), SINCE, NOW + 365 * DAY, True),
        ("tsa", "rsa", name("Dịch vụ cấp dấu thời gian thử nghiệm"), SINCE, NOW + 365 * DAY, True),
    ]
    for stem, kind, subject, start, end, signing in leaves:
        key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
               else ec.generate_private_key(ec.SECP384R1() if kind == "ec384" else ec.SECP256R1()))
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(usage(signing), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False))
        if stem == "tsa":
            # RFC 3161 2.3: the TSA's certificate has this one purpose, critical.
            cert = cert.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                      critical=True)
        cert = cert.sign(ca_key, hashes.SHA256())
        write(out, stem, key, cert)
        p12(out, stem, password)
    p12(out, "officer", password, "-legacy", suffix="-legacy")


if __name__ == "__main__":
    main()
