#!/usr/bin/env bash
# Source me: starts a throwaway PostgreSQL on 127.0.0.1 (a free port) if the server binaries
# exist, and exports CAPBRIEF_TEST_POSTGRES_URL so the storage tests also run on PostgreSQL.
# Stops and removes it on exit. Without PostgreSQL it says so and those tests skip.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "ci: no PostgreSQL server binaries; PostgreSQL tests will skip"
  return 0
fi
pg_dir=$(mktemp -d /tmp/capbrief-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_pg() {  # the server refuses to run as root
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$pg_dir" && su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
stop_pg() {
  run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1" || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
if run_pg "'$pg_bin/initdb' -D '$pg_dir/data' -A trust -U postgres >/dev/null" &&
   run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/log' -w -o \"-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1\" start >/dev/null"; then
  export CAPBRIEF_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
  echo "ci: PostgreSQL started for the storage tests ($CAPBRIEF_TEST_POSTGRES_URL)"
else
  echo "ci: PostgreSQL did not start; PostgreSQL tests will skip. Its log:"
  tail -n 5 "$pg_dir/log" 2>/dev/null || true
fi
