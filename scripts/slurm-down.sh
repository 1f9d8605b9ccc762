#!/usr/bin/env bash
# Stops the local Slurm that scripts/slurm-up.sh started: only the processes in its pidfiles, and the job
# steps (slurmstepd) of this cluster. `--purge` also forgets its jobs (next job id is 1 again).
set -uo pipefail
B="${KUMUL_SLURM_BASE:-/tmp/kumul-slurm}"
for f in "$B"/run/*.pid; do
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
done
for p in $(pgrep -x slurmstepd); do
  grep -qzx "SLURM_CONF=$B/etc/slurm.conf" "/proc/$p/environ" 2>/dev/null && kill -9 "$p" 2>/dev/null
done
sleep 0.2
rm -f "$B"/run/*.pid
[ "${1:-}" = --purge ] && rm -rf "$B/state" "$B/spool"
exit 0
