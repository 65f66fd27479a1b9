#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL cluster for the test suite; prints its DATABASE_URL.
# Usage: scripts/postgres.sh start|stop   (needs Debian's postgresql package; run as root or as postgres)
set -euo pipefail
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
BIN=/usr/lib/postgresql/$PGVER/bin
DATA=${HI_PG_DATA:-/tmp/hi-postgres}
PORT=${HI_PG_PORT:-54329}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

case "${1:-}" in
  start)
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p "$DATA" && chown postgres:postgres "$DATA"
      as_postgres "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
    fi
    if ! as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      # fsync off: a test cluster trades durability for speed.
      as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
        -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
    fi
    as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc \
      "SELECT 1 FROM pg_roles WHERE rolname='hi'" | grep -q 1 || \
      as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE ROLE hi LOGIN PASSWORD 'hi' CREATEDB"
    as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc \
      "SELECT 1 FROM pg_database WHERE datname='hi'" | grep -q 1 || \
      as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE hi OWNER hi"
    echo "postgres://hi:hi@127.0.0.1:$PORT/hi"
    ;;
  stop)
    as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
