#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (slurmctld + slurmd + munged, Debian's
# slurm-wlm), for the Slurm offload tests and for trying `offload: "slurm"` by hand.
#
#   .ci/slurm-up.sh          install (as root, when missing), configure, start, wait until idle
#   .ci/slurm-up.sh --down   stop the daemons this script started
#
# Idempotent: a cluster that already answers `sinfo` with an idle node is left as it is. The
# node is this host, with the CPUs and memory `slurmd -C` reports, two GPUs of type `fake`
# (empty files standing in for devices: enough for Slurm to schedule `--gres=gpu:fake:N`), and
# one partition, `debug`. Jobs run as the submitting user; this is a test cluster, not a hardened one.
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker="# written by flyte-ts .ci/slurm-up.sh"

say() { echo "slurm-up: $*"; }

stop() {
  for pid_file in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      pid=$(cat "$pid_file")
      kill "$pid" && say "stopped $(basename "$pid_file" .pid)"
      # The next start binds the same ports: wait for this one to be gone.
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
  done
}

if [ "${1:-}" = "--down" ]; then
  stop
  exit 0
fi

node_state() { sinfo -h -o %t 2>/dev/null | head -n 1; }

if command -v sinfo >/dev/null && [ "$(node_state)" = "idle" ]; then
  say "already up: $(sinfo -h -o '%P %a %t %N' | head -n 1)"
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "slurm-wlm and munge are not installed, and this is not root on a Debian-like system: install them, then run this again" >&2
    exit 1
  fi
  say "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if [ "$(id -u)" != 0 ]; then
  say "starting the daemons needs root (they run as root on this one-node cluster)" >&2
  exit 1
fi

host=$(hostname)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
[ -f /etc/munge/munge.key ] || mungekey --create
chown munge:munge /etc/munge/munge.key /run/munge
chmod 400 /etc/munge/munge.key

if [ ! -f "$conf" ] || grep -qF "$marker" "$conf"; then
  # The node line is what slurmd detects, so the node registers without a mismatch.
  node_line=$(slurmd -C | head -n 1)
  cat >"$conf" <<CONF
$marker
ClusterName=local
# Loopback addresses: the cluster works whether or not this host's name resolves.
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
SchedulerType=sched/backfill
# Schedule at each submission and completion at once (by default batch jobs may wait up to 3 s):
# an array's next items start as soon as earlier ones end.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Jobs that ask for no memory get a little, so several fit on the node at once.
DefMemPerCPU=256
# A cancelled job is killed 2 s after SIGTERM (default 30 s), so it leaves squeue promptly.
KillWait=2
MinJobAge=300
GresTypes=gpu
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node_line NodeAddr=127.0.0.1 Gres=gpu:fake:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  # slurmd counts a GPU per file; these stand in for /dev/nvidia0 and /dev/nvidia1.
  touch /var/spool/slurmd/fakegpu0 /var/spool/slurmd/fakegpu1
  echo "Name=gpu Type=fake File=/var/spool/slurmd/fakegpu[0-1]" >/etc/slurm/gres.conf
  say "wrote $conf for node $host"
else
  say "keeping $conf (not written by this script)"
fi

# A daemon left from an earlier start keeps its old configuration: restart ours.
stop
su -s /bin/sh munge -c /usr/sbin/munged
/usr/sbin/slurmctld
/usr/sbin/slurmd

for _ in $(seq 1 60); do
  state=$(node_state || true)
  case "$state" in
  idle | mix | alloc)
    say "up: $(sinfo -h -o '%P %a %t %N' | head -n 1)"
    exit 0
    ;;
  esac
  sleep 0.5
done
say "the node did not become idle in 30 s (state: ${state:-none}); see /var/log/slurm/" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
