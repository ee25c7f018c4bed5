#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL cluster on 127.0.0.1 for tests and development.
# Usage: scripts/postgres.sh start|stop [PORT] ; prints the DATABASE_URL on start.
set -euo pipefail
action=${1:-start}
port=${2:-${COLLAB_PG_PORT:-54329}}
dir=${COLLAB_PG_DIR:-/tmp/collab-postgres-$port}

find_bin() {
  local candidate
  for candidate in "$(command -v pg_ctl 2>/dev/null || true)" /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { dirname "$(readlink -f "$candidate")"; return 0; }
  done
  return 1
}

if ! bin=$(find_bin); then
  echo "PostgreSQL not found; installing it from Debian's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    if [ ! -s "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      # COLLAB_PG_SHARED_BUFFERS (e.g. 1GB): a production-sized buffer cache for benchmarks at 1M
      # posts; PostgreSQL's default (128MB) otherwise. Applies when the cluster starts.
      options="-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
      if [ -n "${COLLAB_PG_SHARED_BUFFERS:-}" ]; then
        options="$options -c shared_buffers=$COLLAB_PG_SHARED_BUFFERS"
      fi
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "$options" start >/dev/null
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [PORT]" >&2; exit 2 ;;
esac
