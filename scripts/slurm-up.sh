#!/usr/bin/env bash
# A real local Slurm 22.05 for the Slurm executor's tests (scripts/test.sh calls it before vitest): one
# partition per site, one slurmd per node (fake GPUs), slurmrestd with JWT on loopback. Installs the Debian
# packages if missing, starts whatever is not running (a second run with everything up returns at once),
# and writes $KUMUL_SLURM_BASE/env (KUMUL_SLURM_URL, KUMUL_SLURM_USER, KUMUL_SLURM_TOKEN, KUMUL_SLURM_PARTITIONS).
# Recipe: ../shared/notes/slurm-on-one-host.md. Stop with scripts/slurm-down.sh.
set -euo pipefail
B="${KUMUL_SLURM_BASE:-/tmp/kumul-slurm}"
PORT="${KUMUL_SLURM_PORT_BASE:-16800}"
# partition:nodes:gputype:gpus (gpus 0: CPU nodes). hami-cpu stands for a site's CPU pool. Outage tests take down
# partitions of their own, so they never disturb the others: urumqi (test/service/serve-slurm.test.ts) and beijing
# (the executor contract, test/exec).
SITES="${KUMUL_SLURM_SITES:-hami:2:a100:8 zhengzhou:2:a100:8 hami-cpu:1:none:0 urumqi:1:a100:8 beijing:1:a100:4}"
export SLURM_CONF="$B/etc/slurm.conf"
unset SLURM_JWT   # daemons started with it set cannot authenticate to each other
URL="http://127.0.0.1:$((PORT + 20))"
mkdir -p "$B"
exec 9>"$B/lock"; flock 9   # two test runs at once start one cluster (daemons get 9>&-: the lock is not theirs)

alive() { # pidfile -> running (zombies count as dead)
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -r "/proc/$pid/stat" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ]
}
token() { scontrol token username=root lifespan=86400 | sed 's/^SLURM_JWT=//'; }
rest_ok() { curl -sf -o /dev/null -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $1" "$URL/slurm/v0.0.38/ping"; }
nodes() { for s in $SITES; do IFS=: read -r site n _ _ <<<"$s"; for i in $(seq 1 "$n"); do echo "$site-$i"; done; done; }
write_env() {
  cat >"$B/env.tmp" <<EOF
KUMUL_SLURM_URL=$URL
KUMUL_SLURM_USER=root
KUMUL_SLURM_TOKEN=$1
KUMUL_SLURM_PARTITIONS=$(for s in $SITES; do printf '%s,' "${s%%:*}"; done | sed 's/,$//')
SLURM_CONF=$SLURM_CONF
EOF
  mv "$B/env.tmp" "$B/env"
  echo "Slurm REST at $URL (partitions: $(for s in $SITES; do printf '%s ' "${s%%:*}"; done)); env in $B/env"
}
all_alive() {
  alive "$B/run/munged.pid" && alive "$B/run/slurmctld.pid" && alive "$B/run/slurmrestd.pid" || return 1
  local node; for node in $(nodes); do alive "$B/run/slurmd-$node.pid" || return 1; done
}

# Fast path: everything up and answering.
if [ -f "$SLURM_CONF" ] && all_alive && t=$(token 2>/dev/null) && rest_ok "$t"; then write_env "$t"; exit 0; fi

if ! command -v slurmctld >/dev/null || ! command -v slurmrestd >/dev/null || ! command -v munged >/dev/null \
   || ! ls /usr/lib/*/slurm-wlm/auth_jwt.so >/dev/null 2>&1; then
  pkgs=(slurm-wlm munge slurmrestd slurm-wlm-jwt-plugin)
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${pkgs[@]}"; }
  apt_install >/dev/null || { apt-get update -q >/dev/null && apt_install >/dev/null; }
fi

mkdir -p "$B"/{etc,munge,state,log,run,dev}
chmod 755 "$B" "$B/munge"
for i in $(seq 0 15); do ln -sf /dev/null "$B/dev/gpu$i"; done
[ -s "$B/munge/munge.key" ] || { head -c 1024 /dev/urandom >"$B/munge/munge.key"; chmod 400 "$B/munge/munge.key"; }
[ -s "$B/etc/jwt_hs256.key" ] || { head -c 32 /dev/urandom >"$B/etc/jwt_hs256.key"; chmod 600 "$B/etc/jwt_hs256.key"; }

{
  cat <<EOF
ClusterName=kumul
SlurmctldHost=localhost
SlurmctldPort=$((PORT + 17))
SlurmdPort=$((PORT + 18))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$B/munge/munge.sock,cred_expire=10
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$B/etc/jwt_hs256.key
StateSaveLocation=$B/state
SlurmdSpoolDir=$B/spool/%n
SlurmctldPidFile=$B/run/slurmctld.pid
SlurmdPidFile=$B/run/slurmd-%n.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=2,sched_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
GresTypes=gpu
ReturnToService=1
JobRequeue=1
SlurmdTimeout=30
MinJobAge=300
KillWait=5
EOF
  port=$((PORT + 100))
  for s in $SITES; do
    IFS=: read -r site n type gpus <<<"$s"
    for i in $(seq 1 "$n"); do
      gres=""; [ "$gpus" -gt 0 ] && gres=" Gres=gpu:$type:$gpus"
      echo "NodeName=$site-$i NodeHostname=localhost Port=$port CPUs=8 RealMemory=16000$gres State=UNKNOWN"
      port=$((port + 1))
    done
    echo "PartitionName=$site Nodes=$(seq -s, -f "$site-%g" 1 "$n") MaxTime=INFINITE State=UP"
  done
} >"$B/etc/slurm.conf.new"
for s in $SITES; do
  IFS=: read -r site n type gpus <<<"$s"
  [ "$gpus" -gt 0 ] || continue
  for i in $(seq 1 "$n"); do echo "NodeName=$site-$i Name=gpu Type=$type File=$B/dev/gpu[0-$((gpus - 1))]"; done
done >"$B/etc/gres.conf"

# A changed cluster (sites, ports) needs a clean restart.
if ! cmp -s "$B/etc/slurm.conf.new" "$SLURM_CONF"; then
  [ -f "$SLURM_CONF" ] && { bash "$(dirname "$0")/slurm-down.sh" || true; rm -rf "$B/state"/* "$B/spool"; }
  mv "$B/etc/slurm.conf.new" "$SLURM_CONF"
fi

# The daemons outlive this script and the checkout that ran it: they start from the cluster's own folder, so that
# removing the checkout (a worktree, a CI clone) cannot pull their working directory from under them.
cd "$B"
alive "$B/run/munged.pid" || munged --socket="$B/munge/munge.sock" --key-file="$B/munge/munge.key" \
  --pid-file="$B/run/munged.pid" --log-file="$B/log/munged.log" --seed-file="$B/munge/munged.seed" --force 9>&-
for _ in $(seq 100); do munge -n -S "$B/munge/munge.sock" >/dev/null 2>&1 && break; sleep 0.05; done
alive "$B/run/slurmctld.pid" || slurmctld -i 9>&-
for node in $(nodes); do mkdir -p "$B/spool/$node"; alive "$B/run/slurmd-$node.pid" || slurmd -N "$node" 9>&-; done
if ! alive "$B/run/slurmrestd.pid"; then
  ( SLURM_JWT=daemon exec setsid slurmrestd -u slurm -g slurm -a rest_auth/jwt -s openapi/v0.0.38 "127.0.0.1:$((PORT + 20))" \
      </dev/null >>"$B/log/slurmrestd.log" 2>&1 9>&- ) &
  echo $! >"$B/run/slurmrestd.pid"
fi

t=""
# Ready: controller answers, nodes left drained/down by a test resumed, all nodes idle, REST answers.
for _ in $(seq 300); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
for s in $SITES; do scontrol update partitionname="${s%%:*}" state=up >/dev/null 2>&1 || true; done
sinfo -h -N -o '%N %t' | awk '$2 ~ /drain|down|drng|fail/ {print $1}' | sort -u | while read -r node; do
  scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
done
for _ in $(seq 300); do
  [ -z "$(sinfo -h -N -o '%t' | grep -vE '^(idle|mix|alloc)$')" ] && t=$(token 2>/dev/null) && rest_ok "$t" && break
  sleep 0.1
done
rest_ok "$t" || { echo "slurm-up: Slurm REST not ready at $URL (logs in $B/log)" >&2; exit 1; }
write_env "$t"
