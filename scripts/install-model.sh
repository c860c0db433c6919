#!/usr/bin/env bash
# Installs Tesseract's best_int Vietnamese model, which sohoa uses by default when present (it reads
# better than Debian's fast model; bench/run --models measures both). The model comes from the npm
# package @tesseract.js-data/vie (its 4.0.0_best_int/vie.traineddata.gz, i.e. tessdata_best quantised
# to integers) and goes, gunzipped and checked against a pinned SHA-256, into
# /usr/local/share/sohoa/tessdata (or $SOHOA_MODEL_DIR), next to links to Debian's eng and osd models
# (and its configs), since Tesseract reads every language of one run from one folder.
#
# Safe to re-run: does nothing when the model is already there. If the registry cannot be reached it
# warns and exits 0: sohoa then falls back to Debian's model (tesseract-ocr-vie).
set -euo pipefail

DEST=${SOHOA_MODEL_DIR:-/usr/local/share/sohoa/tessdata}
PACKAGE=@tesseract.js-data/vie
VERSION=1.0.0
TARBALL=https://registry.npmjs.org/@tesseract.js-data/vie/-/vie-$VERSION.tgz
TARBALL_SHA512=hFxBtxSiCw6+64uxf0psrlLvcYA5kQimYhTSx1RwjbD5jSxe1bWg3EmipAozkzELQIFAMkJC5vu+ONGRem7YLA==
MODEL_SHA256=112f6fd1d04ab4cb0208cad9cada8de214ae33a1e4db3750ffcda69262aef0a8
DEBIAN=/usr/share/tesseract-ocr/5/tessdata

SUDO=""
[ "$(id -u)" -ne 0 ] && [ ! -w "$(dirname "$DEST")" ] && SUDO="sudo"

installed() {
  [ -f "$DEST/vie.traineddata" ] &&
    echo "$MODEL_SHA256  $DEST/vie.traineddata" | sha256sum -c --quiet >/dev/null 2>&1
}

if ! installed; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "installing the best_int Vietnamese model ($PACKAGE@$VERSION) into $DEST" >&2
  # npm pack when npm is there; otherwise the same tarball straight from the registry, checked
  # against the registry's integrity hash.
  if ! { command -v npm >/dev/null && (cd "$tmp" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null 2>&1); }; then
    if ! python3 - "$TARBALL" "$TARBALL_SHA512" "$tmp/vie-$VERSION.tgz" <<'PY'
import base64, hashlib, sys, urllib.request
url, want, out = sys.argv[1:]
data = urllib.request.urlopen(url, timeout=120).read()
if base64.b64encode(hashlib.sha512(data).digest()).decode() != want:
    sys.exit("integrity check failed for " + url)
open(out, "wb").write(data)
PY
    then
      echo "warning: could not fetch $PACKAGE; sohoa will use Debian's Vietnamese model" >&2
      exit 0
    fi
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/4.0.0_best_int/vie.traineddata.gz
  gunzip -c "$tmp/package/4.0.0_best_int/vie.traineddata.gz" >"$tmp/vie.traineddata"
  if ! echo "$MODEL_SHA256  $tmp/vie.traineddata" | sha256sum -c --quiet >/dev/null 2>&1; then
    echo "warning: $PACKAGE@$VERSION has an unexpected model; not installed" >&2
    exit 0
  fi
  $SUDO mkdir -p "$DEST"
  # Copy then rename, so a half-written model is never seen.
  $SUDO install -m 0644 "$tmp/vie.traineddata" "$DEST/.vie.traineddata.tmp"
  $SUDO mv -f "$DEST/.vie.traineddata.tmp" "$DEST/vie.traineddata"
fi

# What else a run may load from the same folder: the English (vie+eng) and orientation (osd) models,
# and for the tesseract command line (bench/run) its config files and the PDF renderer's font.
for item in eng.traineddata osd.traineddata configs tessconfigs pdf.ttf; do
  if [ ! -e "$DEST/$item" ] && [ -e "$DEBIAN/$item" ]; then
    $SUDO ln -sfn "$DEBIAN/$item" "$DEST/$item"
  fi
done
