#!/usr/bin/env bash
# Installs Debian's redis-server for the queue tests (test/queue-workers.test.ts), only where it is
# missing. It starts nothing: each test starts its own throwaway server (test/redis-server.ts).
set -euo pipefail
if [ -x /usr/bin/redis-server ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends redis-server >/dev/null
/usr/bin/redis-server --version
