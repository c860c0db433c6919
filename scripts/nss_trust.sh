#!/usr/bin/env bash
# Makes an NSS database that trusts the given CA certificates, for poppler's pdfsig in the signing tests:
#
#   scripts/nss_trust.sh DBDIR CA.pem [more.pem ...]
#   pdfsig -nssdir sql:DBDIR FILE.pdf
#
# DBDIR is created when missing; an NSS database already in it (cert9.db) is reused, else a new one with
# an empty password is made. Each certificate of each PEM file (or a DER file) is added as a trusted CA
# ("CT,C,C": SSL, e-mail/document signing and object signing), nicknamed after its file. Needs certutil
# (Debian's libnss3-tools). Touches nothing outside DBDIR.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DBDIR CA.pem [more.pem ...]" >&2
  exit 2
fi
command -v certutil >/dev/null || { echo "$0: certutil not found (apt-get install libnss3-tools)" >&2; exit 2; }

db="$1"
shift
for ca in "$@"; do
  [ -r "$ca" ] || { echo "$0: cannot read $ca" >&2; exit 2; }
done

mkdir -p "$db"
if [ ! -e "$db/cert9.db" ]; then
  certutil -N --empty-password -d "sql:$db"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

n=0
for ca in "$@"; do
  base="$(basename "$ca")"
  base="${base%.*}"
  if grep -q -- '-----BEGIN CERTIFICATE-----' "$ca"; then
    # one file per certificate: certutil -i reads only the first of a PEM bundle
    rm -f "$tmp"/cert-*.pem
    awk -v dir="$tmp" '
      /-----BEGIN CERTIFICATE-----/ { n++; out = sprintf("%s/cert-%03d.pem", dir, n); on = 1 }
      on { print > out }
      /-----END CERTIFICATE-----/ { on = 0; close(out) }
    ' "$ca"
    certs=("$tmp"/cert-*.pem)
    ascii=(-a)
  else
    certs=("$ca")
    ascii=()
  fi
  i=0
  for cert in "${certs[@]}"; do
    i=$((i + 1))
    n=$((n + 1))
    nick="sohoa-$n-$base"
    [ "${#certs[@]}" -eq 1 ] || nick="$nick-$i"
    certutil -A -d "sql:$db" -n "$nick" -t "CT,C,C" "${ascii[@]}" -i "$cert"
  done
done
