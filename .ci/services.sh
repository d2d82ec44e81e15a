#!/usr/bin/env bash
# Starts the local engines the tests use when they are not running. Never stops or wipes anything.
set -euo pipefail

wait_for() { # name, check command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$name: up"; return 0; fi
    sleep 1
  done
  echo "$name: did not come up" >&2
  return 1
}

if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null || ! command -v mariadbd >/dev/null; then
  echo "installing database servers from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server mariadb-server >/dev/null
fi

# pg_partman, for the tests of the layout whose partitions it makes (in a database of the tests' own).
pg_version="$(ls /etc/postgresql | sort -V | tail -1)"
if [ ! -f "/usr/share/postgresql/$pg_version/extension/pg_partman.control" ]; then
  echo "installing pg_partman for PostgreSQL $pg_version"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$pg_version-partman" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$pg_version-partman" >/dev/null
  }
fi

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
fi
wait_for postgres pg_isready -h 127.0.0.1 -p 5432

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for redis redis-cli -h 127.0.0.1 -p 6379 ping

if ! mariadb-admin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for mariadb mariadb-admin -h 127.0.0.1 -uroot ping
