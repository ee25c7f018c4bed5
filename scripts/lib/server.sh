# Shared by scripts/smoke and scripts/docs_page_check: start the API on a throwaway SQLite
# database (database-only search, as in the README's quick start) and stop it on exit.
# Usage: . scripts/lib/server.sh; start_server WORKDIR  -> sets SERVER_URL, SERVER_PID

if ! command -v curl >/dev/null; then
  echo "==> installing Debian's curl package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
  local work=$1 port
  port=$(free_port)
  export DATABASE_URL="sqlite:///$work/collab.db"
  unset ELASTICSEARCH_URL
  python3 -m flask --app wsgi run --port "$port" >"$work/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  local waited=0
  until curl -sf "$SERVER_URL/api/v1/openapi.json" >/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "FAIL: the server exited; its log:" >&2; cat "$work/server.log" >&2; return 1
    fi
    if [ "$waited" -ge 120 ]; then
      echo "FAIL: the server did not answer within 120 s; its log:" >&2; cat "$work/server.log" >&2; return 1
    fi
    sleep 0.5; waited=$((waited + 1))
  done
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
}
