#!/usr/bin/env bash
# Source me: starts a throwaway PostgreSQL on 127.0.0.1:55432 (if the server binaries exist) and
# exports CAPBRIEF_TEST_POSTGRES_URL so the storage tests also run on PostgreSQL. Stops on exit.
# Without PostgreSQL it says so and the PostgreSQL tests skip with that reason.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "ci: no PostgreSQL server binaries; PostgreSQL tests will skip"
  return 0
fi
pg_dir=$(mktemp -d /tmp/capbrief-pg.XXXXXX)
run_pg() {  # the server refuses to run as root
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$pg_dir" && su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
if run_pg "'$pg_bin/initdb' -D '$pg_dir/data' -A trust -U postgres >/dev/null" &&
   run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/log' -w -o \"-p 55432 -k $pg_dir -c listen_addresses=127.0.0.1\" start >/dev/null"; then
  export CAPBRIEF_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
  trap "run_pg \"'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null\"; rm -rf '$pg_dir'" EXIT
  echo "ci: PostgreSQL started for the storage tests ($CAPBRIEF_TEST_POSTGRES_URL)"
else
  echo "ci: PostgreSQL did not start (see $pg_dir/log); PostgreSQL tests will skip"
fi
