#!/usr/bin/env bash
# CI: makes the PostgreSQL binaries (initdb, postgres) available on a fresh Debian 12 machine, as
# root, for the tests' throwaway cluster (test/postgres-server.ts starts and stops it itself).
# Installs the Debian package only when no binaries are there; starts no server.
# Works sourced or executed, and changes no option of the calling shell.

nerkit_postgres_binaries() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [[ -x "$bin/initdb" && -x "$bin/postgres" ]] && { echo "$bin"; return 0; }
  done
  return 1
}

nerkit_install_postgres() {
  local bin
  if bin=$(nerkit_postgres_binaries); then
    echo "postgres.sh: PostgreSQL binaries already in $bin"
    return 0
  fi
  echo "postgres.sh: installing PostgreSQL (apt-get)"
  apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null || return 1
  bin=$(nerkit_postgres_binaries) || { echo "postgres.sh: installed, but no initdb and postgres in /usr/lib/postgresql/*/bin" >&2; return 1; }
  echo "postgres.sh: PostgreSQL binaries in $bin"
}

# Executed, this exits with the status; sourced, it returns it (an exit would end the caller's shell).
nerkit_install_postgres
nerkit_status=$?
return "$nerkit_status" 2>/dev/null || exit "$nerkit_status"
