#!/usr/bin/env bash
# The whole test suite (README's test command `npm test`): typecheck, then every test.
# Ends with the line `N passed, N failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
# The dashboard's bundle (dist/web/, rebuilt only when web/ changed) for test/web, and Debian's Chromium for its
# end-to-end tests (playwright-core drives /usr/bin/chromium; no browser is downloaded).
node scripts/build-web.mjs || echo "could not build the dashboard"
if ! command -v chromium >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; } ||
    echo "could not install chromium"
fi
# Debian's haproxy runs deploy/haproxy.cfg in front of several instances (test/service/load-balancer.test.ts).
if ! command -v haproxy >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy >/dev/null; } ||
    echo "could not install haproxy"
fi
# Debian's rclone copies, verifies and repairs backup replicas between sites' storage (test/backup/rclone.test.ts).
if ! command -v rclone >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rclone >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rclone >/dev/null; } ||
    echo "could not install rclone"
fi
# Debian's prometheus scrapes kumul serve and runs deploy/prometheus/'s rules; promtool checks them (test/service/prometheus.test.ts).
# Where services may start, the package also starts a system Prometheus on :9090; the test runs its own on a free port.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null; } ||
    echo "could not install prometheus"
fi
if ! npx tsc --noEmit || ! npx tsc --noEmit -p web/tsconfig.json || ! npx tsc --noEmit -p web/tsconfig.node.json; then
  echo "typecheck failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# The store's contract tests (test/store) run on PostgreSQL too: start the machine's cluster if it is down
# (idempotent), and tell them where it is. They fail, not skip, when it cannot be reached.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || echo "could not start PostgreSQL"
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi
# Shared rate limits (test/api/rate-limit-redis, test/service/instances-shared) need Redis: start the machine's if it
# is down (nothing kept on disk), and tell them where it is. They fail, not skip, when it cannot be reached.
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || echo "could not start Redis"
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
export KUMUL_TEST_REDIS="${KUMUL_TEST_REDIS:-redis://127.0.0.1:6379}"
# The executor contract (test/exec) runs on a real local Slurm too: start it (idempotent; installs Slurm if
# missing) and tell the tests where its env file is. They fail, not skip, when it cannot be reached.
bash scripts/slurm-up.sh || echo "could not start Slurm"
export KUMUL_SLURM_ENV="${KUMUL_SLURM_ENV:-${KUMUL_SLURM_BASE:-/tmp/kumul-slurm}/env}"
export KUMUL_TEST_PG="${KUMUL_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
npx vitest run "$@"
