#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster on loopback, then stops and deletes it.
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
#
# The command sees SOHOA_TEST_DATABASE_URL=postgres://sohoa@127.0.0.1:<port>/sohoa_test. The cluster
# lives in a temporary directory (trust authentication, loopback only, a free port), so nothing of the
# machine's own PostgreSQL is used or changed. PostgreSQL comes from Debian (scripts/install-deps.sh).
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2
  exit 3
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
fi

dir=$(mktemp -d /tmp/sohoa-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U sohoa --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U sohoa sohoa_test

export SOHOA_TEST_DATABASE_URL="postgres://sohoa@127.0.0.1:$port/sohoa_test"
echo "with-postgres: cluster on 127.0.0.1:$port ($dir)" >&2
set +e
"$@"
status=$?
set -e
exit $status
