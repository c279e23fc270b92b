#!/usr/bin/env bash
# Private MariaDB instance for the demo and the tests.
#
#   bash scripts/db.sh start    # install (if needed), initialise and start; reuses a running instance
#   bash scripts/db.sh stop     # stop it (data is kept in .db/)
#   bash scripts/db.sh status   # say whether it runs, and its URL
#   bash scripts/db.sh url      # print the URL only
#   bash scripts/db.sh reset    # stop and delete .db/
#
# The instance lives in <project>/.db (ignored by git), listens on 127.0.0.1:33306 (or the next free
# port, remembered in .db/port; SPARSE_DB_PORT fixes it) and on its own socket, and reads no system option file (--no-defaults), so a MariaDB/MySQL
# already running on the standard port 3306 is neither used nor disturbed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_DIR="${SPARSE_DB_DIR:-$ROOT/.db}"
PORT_FILE="$DB_DIR/port"
# The port: SPARSE_DB_PORT if set; else the one this instance last used (.db/port); else 33306. Without
# SPARSE_DB_PORT, a port taken by another program is skipped for the next free one (see start).
if [ -n "${SPARSE_DB_PORT:-}" ]; then PORT="$SPARSE_DB_PORT"; PORT_FIXED=1
elif [ -f "$PORT_FILE" ]; then PORT="$(cat "$PORT_FILE")"; PORT_FIXED=0
else PORT=33306; PORT_FIXED=0; fi
DATA="$DB_DIR/data"
SOCK="$DB_DIR/mariadb.sock"
PIDFILE="$DB_DIR/mariadb.pid"
LOG="$DB_DIR/mariadb.log"
DB_USER="svm"
DB_PASS="svm-local"
DB_NAME="svm_demo"
url() { echo "mysql://$DB_USER:$DB_PASS@127.0.0.1:$PORT/$DB_NAME"; }

say() { echo "[db] $*" >&2; }

find_bin() { # first of the names that exists on PATH or in /usr/sbin, /usr/bin
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      [ -x "$d/$n" ] && { echo "$d/$n"; return 0; }
    done
  done
  return 1
}

ensure_binaries() {
  if find_bin mariadbd mysqld >/dev/null && find_bin mariadb-install-db mysql_install_db >/dev/null; then return 0; fi
  say "MariaDB server binaries (mariadbd, mariadb-install-db) are not installed."
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "Installing Debian's mariadb-server package (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    # policy-rc.d keeps the package from starting the system service; we start our own instance.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >&2 || { rm -f /usr/sbin/policy-rc.d; exit 1; }
    rm -f /usr/sbin/policy-rc.d
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then
    say "Installing Debian's mariadb-server package (sudo apt-get)..."
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >&2
  else
    say "Install them first, e.g.: sudo apt-get install mariadb-server"
    say "or point the project at an existing server with DATABASE_URL (see .env.example)."
    exit 1
  fi
}

client() { "$(find_bin mariadb mysql)" --no-defaults --protocol=socket -S "$SOCK" -uroot "$@"; }

is_running() {
  [ -S "$SOCK" ] && [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && client -e 'SELECT 1' >/dev/null 2>&1
}

port_taken() { # true when something (not our instance) listens on $PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

start() {
  if is_running; then say "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return 0; fi
  ensure_binaries
  local mariadbd install_db
  mariadbd="$(find_bin mariadbd mysqld)"
  install_db="$(find_bin mariadb-install-db mysql_install_db)"
  if port_taken; then
    if [ "$PORT_FIXED" = 1 ]; then
      say "port $PORT on 127.0.0.1 (SPARSE_DB_PORT) is taken by another program; choose another with SPARSE_DB_PORT=NNNNN"
      exit 1
    fi
    local first="$PORT"
    while port_taken; do
      PORT=$((PORT + 1))
      if [ "$PORT" -gt $((first + 50)) ]; then say "no free port from $first to $PORT on 127.0.0.1; set SPARSE_DB_PORT=NNNNN"; exit 1; fi
    done
    say "port $first on 127.0.0.1 is taken by another program; using $PORT"
  fi
  mkdir -p "$DB_DIR"
  echo "$PORT" >"$PORT_FILE"
  local user_opt=()
  [ "$(id -u)" = "0" ] && user_opt=(--user=root)
  if [ ! -d "$DATA/mysql" ]; then
    say "initialising a private data directory in $DATA"
    rm -rf "$DATA"
    "$install_db" --no-defaults --datadir="$DATA" "${user_opt[@]}" --auth-root-authentication-method=normal \
      --skip-test-db >"$DB_DIR/install.log" 2>&1 || { cat "$DB_DIR/install.log" >&2; exit 1; }
  fi
  say "starting mariadbd on 127.0.0.1:$PORT"
  rm -f "$SOCK" "$PIDFILE"
  # Its own temporary directory: the server's on-disk temporary tables (e.g. a derived table with long
  # strings) must not live in the shared /tmp, where another program's clean-up deletes them mid-statement.
  mkdir -p "$DB_DIR/tmp"
  nohup "$mariadbd" --no-defaults --datadir="$DATA" "${user_opt[@]}" --bind-address=127.0.0.1 --port="$PORT" \
    --socket="$SOCK" --pid-file="$PIDFILE" --log-error="$LOG" --skip-name-resolve --tmpdir="$DB_DIR/tmp" \
    --max-connections=500 --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci >/dev/null 2>&1 &
  local i
  for i in $(seq 1 120); do
    if client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.25
    if [ "$i" = 120 ]; then say "mariadbd did not come up; its log:"; tail -n 30 "$LOG" >&2 || true; exit 1; fi
  done
  client <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4;
SQL
  say "ready: mysql://$DB_USER:****@127.0.0.1:$PORT/$DB_NAME (bash scripts/db.sh url prints it in full)"
}

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    local pid; pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    say "stopped"
  else
    say "not running"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; else say "not running"; exit 3; fi ;;
  url) url ;;
  reset) stop; rm -rf "$DB_DIR"; say "removed $DB_DIR" ;;
  *) echo "usage: $0 start|stop|status|url|reset" >&2; exit 2 ;;
esac
