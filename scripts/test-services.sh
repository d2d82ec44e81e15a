#!/usr/bin/env bash
# What `npm test` needs besides Node: PostgreSQL with pg_partman, MariaDB (or MySQL) and Redis
# (redis-server and redis-cli too: the tests start their own Redis Clusters), at the URLs the tests
# read (POSTGRES_URL, MYSQL_URL, REDIS_URL; defaults: the local services). Runs before `npm test`
# (npm's pretest). On a Debian machine where it may (root), it installs what is missing from
# Debian's packages and starts the local services; elsewhere it names what is missing and how to
# get it, in one message. Never stops or wipes anything.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 MY_HOST=127.0.0.1 MY_PORT=3306 RD_HOST=127.0.0.1 RD_PORT=6379
missing=()

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() { # packages...
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}

wait_for() { # name, check command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$name: up"; return 0; fi
    sleep 1
  done
  echo "$name: did not come up" >&2
  return 1
}

# Only the local defaults are provisioned; a URL pointing elsewhere is the caller's server.
local_only() { [ -z "${1:-}" ] || [[ "$1" == *"@127.0.0.1"* || "$1" == *"@localhost"* || "$1" == *"//127.0.0.1"* || "$1" == *"//localhost"* ]]; }

if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null || ! command -v mariadbd >/dev/null; then
  if can_install; then
    echo "installing database servers from Debian packages"
    apt-get update -qq
    apt_install postgresql redis-server mariadb-server
  fi
fi

if command -v pg_ctlcluster >/dev/null && local_only "${POSTGRES_URL:-}"; then
  pg_version="$(ls /etc/postgresql | sort -V | tail -1)"
  if [ ! -f "/usr/share/postgresql/$pg_version/extension/pg_partman.control" ]; then
    if can_install; then
      echo "installing pg_partman for PostgreSQL $pg_version"
      apt_install "postgresql-$pg_version-partman"
    else
      missing+=("pg_partman for PostgreSQL $pg_version: apt-get install postgresql-$pg_version-partman")
    fi
  fi
  if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start 2>/dev/null || true
  fi
  wait_for postgres pg_isready -h "$PG_HOST" -p "$PG_PORT" || missing+=("PostgreSQL at $PG_HOST:$PG_PORT (start it: pg_ctlcluster $pg_version main start)")
elif local_only "${POSTGRES_URL:-}"; then
  missing+=("PostgreSQL 15 with pg_partman: apt-get install postgresql postgresql-15-partman")
fi

if command -v redis-server >/dev/null; then
  if local_only "${REDIS_URL:-}" && ! redis-cli -h "$RD_HOST" -p "$RD_PORT" ping >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$RD_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  if local_only "${REDIS_URL:-}"; then
    wait_for redis redis-cli -h "$RD_HOST" -p "$RD_PORT" ping || missing+=("Redis at $RD_HOST:$RD_PORT (start it: redis-server --daemonize yes)")
  fi
else
  missing+=("redis-server and redis-cli (the tests start Redis Clusters of their own): apt-get install redis-server")
fi

if command -v mariadbd >/dev/null && local_only "${MYSQL_URL:-}"; then
  if ! mariadb-admin -h "$MY_HOST" -P "$MY_PORT" -uroot ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd 2>/dev/null || true
  fi
  wait_for mariadb mariadb-admin -h "$MY_HOST" -P "$MY_PORT" -uroot ping || missing+=("MariaDB at $MY_HOST:$MY_PORT (start it: start-stop-daemon --start --background --exec /usr/sbin/mariadbd)")
elif local_only "${MYSQL_URL:-}"; then
  missing+=("MariaDB or MySQL: apt-get install mariadb-server")
fi

if [ ${#missing[@]} -gt 0 ]; then
  {
    echo
    echo "npm test needs these, and this script may not install them here (it installs from Debian's packages when run as root):"
    for item in "${missing[@]}"; do echo "  - $item"; done
    echo "Or point POSTGRES_URL, MYSQL_URL and REDIS_URL at servers of your own."
  } >&2
  exit 1
fi
