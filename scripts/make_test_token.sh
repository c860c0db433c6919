#!/usr/bin/env bash
# Makes a SoftHSM2 token holding keys and certificates of the test PKI, as an officer's USB token
# holds them: each private key (and its public key) and its certificate under one CKA_ID and one
# label, and the CA certificate beside them.
#
#     scripts/make_test_token.sh TOKEN_DIR PKI_DIR LABEL PIN [STEM...]
#
# TOKEN_DIR  gets softhsm2.conf (tokens in TOKEN_DIR/tokens); use it with
#            SOFTHSM2_CONF=TOKEN_DIR/softhsm2.conf. Running the script again with another LABEL
#            adds a second token to the same store.
# PKI_DIR    made by `.venv/bin/python scripts/make_test_pki.py PKI_DIR PASSWORD`: STEM.pem,
#            STEM.key.pem (PKCS#8, unencrypted), ca.pem.
# LABEL      the token's label; PIN the user PIN (the SO PIN is "so-" PIN).
# STEM...    the keys to import (default: officer); the n-th gets CKA_ID n (01, 02, …) and the
#            label STEM; the CA certificate gets CKA_ID ca and the label ca.
#
# With NO_PUBLIC_KEY=1 in the environment, the keys go in without their public key objects (as
# some tokens hold them: the private key and the certificate only). Stems named in KEY_ONLY (space
# separated) go in without their certificate (an old key left on a token).
#
# Example: scripts/make_test_token.sh /tmp/t /tmp/pki "Token thu" 1234 officer officer-ec
set -euo pipefail

if [[ $# -lt 4 ]]; then
  echo "usage: $0 TOKEN_DIR PKI_DIR LABEL PIN [STEM...]" >&2
  exit 2
fi
token_dir=$1 pki_dir=$2 label=$3 pin=$4
shift 4
stems=("$@")
[[ ${#stems[@]} -gt 0 ]] || stems=(officer)

module=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for tool in softhsm2-util pkcs11-tool openssl; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
[[ -f $module ]] || { echo "$0: no PKCS#11 module $module (softhsm2)" >&2; exit 1; }
for f in ca.pem "${stems[@]/%/.pem}" "${stems[@]/%/.key.pem}"; do
  [[ -f $pki_dir/$f ]] || { echo "$0: $pki_dir/$f missing (scripts/make_test_pki.py makes it)" >&2; exit 1; }
done

mkdir -p "$token_dir/tokens"
token_dir=$(cd "$token_dir" && pwd)
export SOFTHSM2_CONF=$token_dir/softhsm2.conf
# removable, as a USB token is (CKF_REMOVABLE_DEVICE)
cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $token_dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = true
slots.mechanisms = ALL
library.reset_on_fork = false
EOF

if softhsm2-util --show-slots | grep -Eq "^ *Label: +$(printf '%s' "$label" | sed 's/[][\.*^$/]/\\&/g') *$"; then
  echo "$0: a token labelled \"$label\" is already in $token_dir/tokens" >&2
  exit 1
fi
softhsm2-util --init-token --free --label "$label" --so-pin "so-$pin" --pin "$pin" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
p11() { pkcs11-tool --module "$module" --token-label "$label" --login --pin "$pin" "$@" >/dev/null; }
cert() { # PEM ID LABEL
  openssl x509 -in "$1" -outform DER -out "$work/cert.der"
  p11 --write-object "$work/cert.der" --type cert --id "$2" --label "$3"
}

public=()
[[ ${NO_PUBLIC_KEY:-} == 1 ]] && public=(--no-public-key)
n=0
for stem in "${stems[@]}"; do
  n=$((n + 1))
  id=$(printf '%02x' "$n")
  softhsm2-util --import "$pki_dir/$stem.key.pem" --token "$label" --pin "$pin" \
    --id "$id" --label "$stem" "${public[@]}" >/dev/null
  if [[ " ${KEY_ONLY:-} " == *" $stem "* ]]; then
    key_only=$((${key_only:-0} + 1))
  else
    cert "$pki_dir/$stem.pem" "$id" "$stem"
  fi
done
cert "$pki_dir/ca.pem" ca ca

# What the token now holds, as a check that every object is there.
count=$(pkcs11-tool --module "$module" --token-label "$label" --login --pin "$pin" --list-objects 2>/dev/null \
  | grep -cE '^(Private Key|Public Key|Certificate) Object')
expected=$(((${#public[@]} ? 2 : 3) * ${#stems[@]} + 1 - ${key_only:-0}))
if [[ $count -ne $expected ]]; then
  echo "$0: token \"$label\" holds $count key and certificate objects, not $expected" >&2
  exit 1
fi
