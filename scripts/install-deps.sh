#!/usr/bin/env bash
# Installs the Debian packages sohoa needs to build, run and test, then the default
# OCR model (scripts/install-model.sh) and the project venv .venv (tuspy, pinned in
# scripts/requirements-test.txt). Safe to re-run: it only calls apt-get or pip when
# something is missing.
set -euo pipefail

PKGS=(
  # build: the tesseract crate's bindgen needs libclang and the C headers
  pkg-config libtesseract-dev libleptonica-dev libclang-dev
  # run: Tesseract 5 with the Vietnamese, English and orientation (OSD) models
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd
  # sample and fixture generation (scripts/make_samples.py uses Debian's python3 + Pillow)
  python3 python3-pil python3-numpy fonts-liberation2 fonts-dejavu-core
  # checks used by the tests: pdftotext/pdfinfo/pdfimages, qpdf --check, tiffinfo
  poppler-utils qpdf libtiff-tools
  # the HTML report test renders it in headless Chromium (screenshot, DOM, print to PDF);
  # DejaVu and Liberation (above) hold every Vietnamese glyph the page uses
  chromium
  # the record-store tests also run against PostgreSQL: a throw-away cluster on loopback
  # (scripts/with-postgres.sh), never the machine's own
  postgresql
  # the HTTPS test of `sohoa serve` makes a self-signed certificate
  openssl
  # the signing tests: SoftHSM2 as a real PKCS#11 token, opensc's pkcs11-tool to load its certificate,
  # and NSS's certutil for the trust database of poppler's pdfsig (poppler-utils, above)
  softhsm2 opensc libnss3-tools
  # the project venv (.venv; its pip comes from python3-venv's ensurepip) for tuspy, the tus client of tests
  python3-venv
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The default OCR model (best_int Vietnamese, from the npm registry); see the script.
"$(dirname "$0")/install-model.sh"

# The project venv: tuspy (scripts/tus_upload.py), cryptography (scripts/make_test_pki.py) and pyHanko
# (scripts/check_pdf_signature.py), on Debian's python3. Made anew when it is missing or broken or one of
# them does not import; the pins installed again when scripts/requirements-test.txt changed.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/scripts/requirements-test.txt"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
fresh=""
"$venv/bin/python" -c 'import tusclient.client, cryptography.x509, pyhanko.sign.validation' 2>/dev/null || fresh=1
if [ -n "$fresh" ] || ! cmp -s "$req" "$venv/requirements-test.txt"; then
  echo "setting up $venv (scripts/requirements-test.txt)" >&2
  [ -z "$fresh" ] || "$py" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --no-input --disable-pip-version-check -r "$req"
  cp "$req" "$venv/requirements-test.txt"
fi
