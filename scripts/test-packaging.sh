#!/usr/bin/env bash
# End-to-end test of the .deb in a real systemd (`make test-packaging`, root only;
# not part of `make test`). Builds the package, boots a Debian bookworm rootfs with
# systemd-nspawn (debootstrapped once, then cached as a tarball under
# ~/.cache/ailurus/), installs the package with dpkg -i and checks what an operator
# would: the unit is active under ailurus.slice with Delegate=yes; (a) with the
# shipped polkit rule, systemd 252 refuses the agent's D-Bus slices and the agent
# falls back to its delegated cgroup (cgroup v2: ailurus.service/shards and
# /sidecars with cpu.weight, cpu.max and memory.max; cgroup v1: systemd delegates no
# controller, so one "running without cgroup quotas" line naming both refusals); kcat
# on the host produces and consumes, the journal has the banner and structured
# fields, a killed shard is restarted, a restart keeps the data; (b) with a test-only
# polkit rule granting the ailurus user every unit, the agent gets
# ailurus-shards.slice and ailurus-sidecars.slice with their
# CPUWeight/CPUQuota/MemoryMax and each shard runs in its own scope (systemctl show,
# systemd-cgls, the kernel's cgroup files), a busy loop standing in for the uploader
# in ailurus-sidecars.slice gets no more CPU than the quota while the same loop
# outside gets far more, at the default 20% and at sidecar_cpu_quota_percent: 10 set
# in ailurus.yaml, a frozen shard trips the watchdog, and a stop is clean and removes
# the slices; (c) without a rule and with Delegate=no the node logs once and runs
# without quotas. Then reinstall and purge. It also checks the rpm with
# rpm -qpl/--scripts.
#
# Environment: KEEP=1 leaves the rootfs and prints where; MIRROR overrides the Debian
# mirror; SMP (default 2) shards.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "test-packaging: needs root (systemd-nspawn, debootstrap)" >&2; exit 1; }
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v kcat >/dev/null || need+=(kcat)
command -v rpm >/dev/null || need+=(rpm)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-packaging: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

SMP=${SMP:-2}
MIRROR=${MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ailurus
# polkitd (and libpam-systemd, which it needs) authorizes the agent's D-Bus calls.
TARBALL=$CACHE/bookworm-systemd-polkit-rootfs.tar.gz
WORK=$(mktemp -d /var/tmp/ailurus-pkgtest.XXXXXX)
ROOTFS=$WORK/rootfs
NSPAWN_PID= CPID=

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
in_ct() { nsenter -t "$CPID" -a "$@"; }

cleanup() {
  local rc=$?
  if [ -n "$CPID" ] && [ -d "/proc/$CPID" ]; then
    if [ $rc -ne 0 ]; then
      echo "--- journalctl -u ailurus (last 40 lines)" >&2
      in_ct journalctl -u ailurus --no-pager -n 40 >&2 || true
    fi
    in_ct systemctl poweroff >/dev/null 2>&1 || true
  fi
  if [ -n "$NSPAWN_PID" ]; then
    for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NSPAWN_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  [ $rc -eq 0 ] && echo "test-packaging: PASS" || echo "test-packaging: FAILED" >&2
}
trap cleanup EXIT

step "build the packages"
rm -f dist/ailurus_*.deb dist/ailurus-*.rpm
./scripts/package.sh deb dist >/dev/null
./scripts/package.sh rpm dist >/dev/null
DEB=$(ls dist/ailurus_*.deb | head -1)
RPM=$(ls dist/ailurus-*.rpm | head -1)
echo "$DEB"; echo "$RPM"

step "rpm contents and scripts"
rpm -qpl "$RPM" | tee "$WORK/rpm-files" >/dev/null
for f in /usr/bin/ailurus /etc/ailurus/ailurus.yaml /usr/lib/systemd/system/ailurus.service \
         /usr/lib/systemd/system/ailurus.slice /usr/lib/systemd/system/ailurus-tuner.service /var/lib/ailurus \
         /usr/share/polkit-1/rules.d/50-ailurus.rules; do
  grep -qx "$f" "$WORK/rpm-files" || fail "rpm lacks $f"
done
rpm -qp --scripts "$RPM" > "$WORK/rpm-scripts"
grep -q 'useradd --system' "$WORK/rpm-scripts" || fail "rpm postinstall does not create the user"
grep -q '\[ -d /run/systemd/system \]' "$WORK/rpm-scripts" || fail "rpm scripts call systemctl unguarded"
rpm -qp --configfiles "$RPM" | grep -qx /etc/ailurus/ailurus.yaml || fail "ailurus.yaml is not an rpm config file"
echo ok

step "Debian rootfs"
mkdir -p "$CACHE" "$ROOTFS"
if [ ! -s "$TARBALL" ]; then
  echo "debootstrap bookworm from $MIRROR (once; cached in $TARBALL)"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,adduser,libpam-systemd,polkitd bookworm "$WORK/bootstrap" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
  tar -C "$WORK/bootstrap" -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$WORK/bootstrap"
fi
tar -C "$ROOTFS" -xzf "$TARBALL"
cp "$DEB" "$ROOTFS/root/ailurus.deb"
echo "ailurus-pkgtest" > "$ROOTFS/etc/hostname"

step "boot it with systemd-nspawn"
systemd-nspawn -b -D "$ROOTFS" --register=no --keep-unit --console=passive >"$WORK/nspawn.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 1 200); do
  for c in $(pgrep -P "$NSPAWN_PID" 2>/dev/null); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && CPID=$c
  done
  [ -n "$CPID" ] && [ -S "/proc/$CPID/root/run/systemd/private" ] && break
  sleep 0.1
done
[ -n "$CPID" ] || { cat "$WORK/nspawn.log"; fail "container did not boot"; }
state=$(in_ct systemctl is-system-running --wait || true)
echo "container systemd (pid $CPID): $state"
# nspawn mounts the v1 controllers read-only, so systemd would accept the slices'
# limits but not write them: make them writable and let systemd see it, so the
# kernel's values can be checked below. A cgroup2 host needs nothing.
V1=false
if [ -d "/proc/$CPID/root/sys/fs/cgroup/cpu" ]; then
  V1=true
  for c in cpu cpuacct cpuset memory pids freezer blkio devices; do
    [ -d "/proc/$CPID/root/sys/fs/cgroup/$c" ] && nsenter -t "$CPID" -m mount -o remount,bind,rw "/sys/fs/cgroup/$c" 2>/dev/null || true
  done
  in_ct systemctl daemon-reexec
  in_ct systemctl is-system-running --wait >/dev/null || true
  echo "cgroup v1 controllers remounted read-write"
fi

step "dpkg -i"
in_ct dpkg -i /root/ailurus.deb
in_ct getent passwd ailurus >/dev/null || fail "no ailurus user"
[ "$(in_ct stat -c %U /var/lib/ailurus/data)" = ailurus ] || fail "/var/lib/ailurus/data not owned by ailurus"
[ "$(in_ct systemctl is-enabled ailurus)" = enabled ] || fail "ailurus.service not enabled by postinst"
in_ct ailurus start -t --config /etc/ailurus/ailurus.yaml

# Free ports on the host (the container shares its network).
read -r KPORT APORT < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
cat > "$ROOTFS/etc/default/ailurus" <<ENV
AILURUS_KAFKA_ADDR=127.0.0.1:$KPORT
AILURUS_ADMIN_ADDR=127.0.0.1:$APORT
AILURUS_SMP=$SMP
ENV
# An operator's edit of the conffile: topics created on first use.
printf 'cluster:\n  auto_create_topics_enabled: true\n' >> "$ROOTFS/etc/ailurus/ailurus.yaml"

step "systemctl start ailurus (Kafka 127.0.0.1:$KPORT, admin :$APORT)"
t0=$(date +%s)
in_ct systemctl start ailurus || fail "systemctl start ailurus"
echo "ready after $(( $(date +%s) - t0 )) s"
[ "$(in_ct systemctl is-active ailurus)" = active ] || fail "ailurus not active"
cg=$(in_ct systemctl show -p ControlGroup --value ailurus)
echo "cgroup $cg"
[ "$cg" = /ailurus.slice/ailurus.service ] || fail "ailurus.service is in $cg, not under ailurus.slice"
[ "$(in_ct systemctl show -p Delegate --value ailurus)" = yes ] || fail "ailurus.service is not Delegate=yes"
in_ct systemctl status ailurus --no-pager | head -20
# agent_children: the agent's child processes (the shards), container pids.
# minbase has no procps: read the parent pid from /proc/<pid>/stat.
agent_children() {
  local main p
  main=$(in_ct systemctl show -p MainPID --value ailurus)
  for p in /proc/$CPID/root/proc/[0-9]*; do
    [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$main" ] && echo "${p##*/}"
  done
  return 0
}
# unit_cgroup PID: the systemd cgroup of a container process, as the container sees it.
unit_cgroup() {
  in_ct cat "/proc/$1/cgroup" 2>/dev/null | sed -n 's/^[0-9]*:name=systemd://p; s/^0:://p' | grep -v '^$' | sed -n 1p
}
# procs [SUB]: how many processes the service's cgroup (or its SUB group) lists.
procs() {
  local f
  for f in "/proc/$CPID/root/sys/fs/cgroup/unified$cg${1:+/$1}/cgroup.procs" "/proc/$CPID/root/sys/fs/cgroup/systemd$cg${1:+/$1}/cgroup.procs" \
           "/proc/$CPID/root/sys/fs/cgroup$cg${1:+/$1}/cgroup.procs"; do
    [ -r "$f" ] && { wc -l < "$f"; return; }
  done
  echo 0
}
show() { in_ct systemctl show -p "$2" --value "$1"; }
expect() { # UNIT PROPERTY VALUE
  local got; got=$(show "$1" "$2")
  [ "$got" = "$3" ] || fail "systemctl show -p $2 $1 = '$got', want '$3'"
  echo "$1 $2=$got"
}
kcg() { cat "/proc/$CPID/root/sys/fs/cgroup/$1"; }
# V2: the container's systemd runs on the unified hierarchy with controllers.
V2=false
[ -f "/proc/$CPID/root/sys/fs/cgroup/cgroup.controllers" ] && V2=true

# PLACEMENT says where the shards must be: "delegated" (the cgroupfs backend
# in the service's delegated cgroup: ailurus.service/shards), "slices"
# (ailurus-shards.slice/ailurus-shard-<pid>.scope from systemd over D-Bus) or
# "service" (no quotas: every process in ailurus.service).
check_placement() {
  local shards n=0 p pcg
  shards=$(agent_children)
  for p in $shards; do
    pcg=$(unit_cgroup "$p")
    case $PLACEMENT in
      delegated) [[ $pcg == "$cg/shards" ]] || fail "shard pid $p is in $pcg, not in $cg/shards" ;;
      slices) [[ $pcg == /ailurus.slice/ailurus-shards.slice/ailurus-shard-$p.scope ]] || fail "shard pid $p is in $pcg, not in ailurus-shards.slice/ailurus-shard-$p.scope" ;;
      service) [[ $pcg == "$cg" ]] || fail "shard pid $p is in $pcg, not in $cg" ;;
    esac
    n=$((n + 1))
  done
  [ "$n" -eq "$SMP" ] || fail "$n shard processes, want $SMP"
  case $PLACEMENT in
    delegated)
      [ "$(procs)" -eq 0 ] || fail "$(procs) processes left in $cg itself, want none (cgroup v2: no internal processes)"
      [ "$(procs agent)" -eq 1 ] || fail "$(procs agent) processes in $cg/agent, want the agent" ;;
    slices) [ "$(procs)" -eq 1 ] || fail "$(procs) processes left in ailurus.service, want the agent only" ;;
    service) [ "$(procs)" -eq $((SMP + 1)) ] || fail "$(procs) processes in ailurus.service, want the agent + $SMP shards" ;;
  esac
  echo "$n shards placed ($PLACEMENT): $(echo $shards)"
}

step "(a) the shipped polkit rule on systemd $(in_ct systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'): D-Bus refused; the delegated cgroup (v2) or no quotas (v1)"
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
grep -E 'cgroup quotas' "$WORK/journal.txt" || fail "the agent logged nothing about its cgroups"
[ "$(show ailurus-shards.slice ActiveState)" = inactive ] \
  || fail "ailurus-shards.slice is $(show ailurus-shards.slice LoadState)/$(show ailurus-shards.slice ActiveState): the shipped rule let systemd 252 create it"
# The shipped rule as polkit runs it, asked for the agent's process with the
# details systemd 257+ passes (pkcheck as root may pass them; 252 passes none).
pk() { in_ct pkcheck --action-id org.freedesktop.systemd1.manage-units --process "$(show ailurus MainPID)" "$@" >/dev/null 2>&1; }
pk --detail unit ailurus-shards.slice --detail verb start || fail "polkit refuses ailurus-shards.slice start to ailurus: the shipped rule does not load or match"
pk --detail unit ailurus-shard-1.scope --detail verb stop || fail "polkit refuses ailurus-shard-1.scope stop to ailurus"
! pk --detail unit evil.service --detail verb start || fail "polkit grants evil.service to ailurus"
! pk --detail unit ailurus-shards.slice --detail verb set-property || fail "polkit grants set-property to ailurus"
! pk || fail "polkit grants ailurus a unit it is not told the name of (systemd 252's StartTransientUnit)"
echo "polkit: ailurus-*.slice/.scope start/stop granted by name; other units, other verbs and unnamed units not"
if $V2; then
  # Delegate=yes on cgroup v2: the ailurus user owns ailurus.service's subtree
  # and may enable cpu and memory in it.
  PLACEMENT=delegated
  grep -q 'cgroup quotas installed.*backend=v2' "$WORK/journal.txt" || fail "the agent did not fall back to the delegated cgroup v2 backend"
  check_placement
  svc=ailurus.slice/ailurus.service
  [ "$(kcg $svc/shards/cpu.weight)" = 1000 ] || fail "shards cpu.weight $(kcg $svc/shards/cpu.weight)"
  [ "$(kcg $svc/sidecars/cpu.max)" = "20000 100000" ] || fail "sidecars cpu.max $(kcg $svc/sidecars/cpu.max)"
  [ "$(kcg $svc/sidecars/memory.max)" = 1073741824 ] || fail "sidecars memory.max $(kcg $svc/sidecars/memory.max)"
  echo "kernel: shards cpu.weight=1000; sidecars cpu.max=20000 100000, memory.max=1073741824"
  in_ct systemd-cgls --no-pager -u ailurus.service | tee "$WORK/cgls.txt"
  grep -q 'shards' "$WORK/cgls.txt" || fail "systemd-cgls -u ailurus.service shows no shards group"
  [ "$(grep -c 'ailurus internal shard' "$WORK/cgls.txt")" -eq "$SMP" ] || fail "systemd-cgls does not show $SMP shard processes"
else
  # cgroup v1: systemd 252 delegates no controller to a service that drops
  # root (User=), only the controller-less name=systemd hierarchy. The agent
  # tries, is refused, and runs without quotas: one line naming both refusals.
  PLACEMENT=service
  [ "$(grep -c 'running without cgroup quotas' "$WORK/journal.txt")" -eq 1 ] || fail "want one 'running without cgroup quotas' line"
  grep -q 'systemd: start ailurus-shards.slice' "$WORK/journal.txt" || fail "the reason does not say systemd refused the slice"
  grep -q 'cgroupfs: not root and the cgroup is not delegated to the agent: .*permission denied' "$WORK/journal.txt" \
    || fail "the reason does not say the cgroupfs writes were refused"
  owner() { in_ct stat -c %U "/sys/fs/cgroup/$1" 2>/dev/null || echo absent; } # the container's user names
  [ "$(owner systemd/ailurus.slice/ailurus.service)" = ailurus ] || fail "name=systemd ailurus.service owned by $(owner systemd/ailurus.slice/ailurus.service), want ailurus (Delegate=yes)"
  for c in cpu memory; do
    o=$(owner $c/ailurus.slice/ailurus.service)
    [ "$o" != ailurus ] || fail "systemd delegated the v1 $c controller to ailurus: the cgroupfs backend should have used it"
    [ "$o" = absent ] && o="none: the service has no $c cgroup of its own" || o="owned by $o"
    echo "v1 $c: ailurus.service's cgroup $o (not delegated)"
  done
  echo "v1 name=systemd: ailurus.service's cgroup owned by ailurus (delegated, no controllers)"
  check_placement
fi

step "produce and consume with kcat from the host"
seq 1 1000 | sed 's/^/pkg-/' | kcat -b "127.0.0.1:$KPORT" -P -t pkgtest -X topic.request.required.acks=-1
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "consumed $got records, want 1000"
echo "1000 records produced and consumed"

step "journal: banner and structured fields"
# Into files first: `journalctl | grep -q` dies of SIGPIPE under pipefail.
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
in_ct journalctl -u ailurus --no-pager -o cat SUBSYS=agent > "$WORK/journal-agent.txt"
# Shards in ailurus.service or in a sub-cgroup of it: their lines are ailurus.service's.
in_ct journalctl -u ailurus --no-pager -o cat SHARD=1 > "$WORK/journal-shard1.txt"
in_ct journalctl -u ailurus --no-pager -o verbose -p warning..info > "$WORK/journal-verbose.txt"
grep -q 'ailurus starting' "$WORK/journal.txt" || fail "no startup banner in journalctl -u ailurus"
grep -q 'node ready' "$WORK/journal-agent.txt" || fail "journalctl -u ailurus SUBSYS=agent lacks 'node ready'"
grep -q 'shard serving' "$WORK/journal-shard1.txt" || fail "journalctl -u ailurus SHARD=1 lacks 'shard serving'"
in_ct journalctl -t ailurus --no-pager -o cat SHARD=1 > "$WORK/journal-ident.txt"
grep -q 'shard serving' "$WORK/journal-ident.txt" || fail "journalctl -t ailurus SHARD=1 lacks 'shard serving'"
grep -q 'PRIORITY=6' "$WORK/journal-verbose.txt" || fail "no PRIORITY field"
grep -q 'SYSLOG_IDENTIFIER=ailurus' "$WORK/journal-verbose.txt" || fail "no SYSLOG_IDENTIFIER field"
grep 'ailurus starting' "$WORK/journal.txt" | head -1
echo "SUBSYS=agent: $(wc -l < "$WORK/journal-agent.txt") entries; SHARD=1: $(wc -l < "$WORK/journal-shard1.txt") entries"

step "ailurus-tuner in a container: says what it cannot write and what to do"
in_ct systemctl start ailurus-tuner >/dev/null 2>&1 || true
in_ct journalctl -u ailurus-tuner --no-pager -o cat > "$WORK/journal-tuner.txt"
grep -q 'what to do' "$WORK/journal-tuner.txt" || { cat "$WORK/journal-tuner.txt"; fail "tuner gave no advice"; }
grep -E '^TUNER|what to do|cannot write' "$WORK/journal-tuner.txt" | head -6
[ "$(in_ct systemctl is-active ailurus)" = active ] || fail "a failed tuner stopped the node"

# kill_shard: SIGKILL a shard; the agent restarts it into the same placement.
kill_shard() {
  local shards shard
  shards=($(agent_children)); shard=${shards[0]:-} # not `| head -1`: SIGPIPE under pipefail
  [ -n "$shard" ] || fail "no shard process under the agent"
  in_ct bash -c "kill -9 $shard"
  for _ in $(seq 1 100); do [ "$(agent_children | wc -l)" -eq "$SMP" ] && [ ! -d "/proc/$CPID/root/proc/$shard" ] && break; sleep 0.1; done
  sleep 2
  [ "$(in_ct systemctl is-active ailurus)" = active ] || fail "unit not active after a shard was killed"
  check_placement
  if [ "$PLACEMENT" = slices ]; then
    [ "$(show "ailurus-shard-$shard.scope" LoadState)" = not-found ] || fail "the killed shard's scope was not collected"
  fi
  echo "shard pid $shard killed and restarted ($PLACEMENT); unit active"
}
step "kill -9 a shard: the agent restarts it, the unit stays active"
kill_shard

step "systemctl restart keeps the data"
in_ct systemctl restart ailurus
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "after restart consumed $got records, want 1000"
check_placement
echo "1000 records still there"

step "(b) a test-only polkit rule granting ailurus every unit: the D-Bus slices"
# Not shipped: on systemd 252 this is as much as root. It stands for systemd
# 257+, where the shipped rule grants ailurus-*.slice/.scope by name.
cat > "$ROOTFS/etc/polkit-1/rules.d/49-ailurus-test.rules" <<'RULE'
polkit.addRule(function(action, subject) {
    if (action.id === "org.freedesktop.systemd1.manage-units" && subject.user === "ailurus") {
        return polkit.Result.YES;
    }
    return polkit.Result.NOT_HANDLED;
});
RULE
in_ct systemctl restart polkit
tb=$(in_ct date '+%Y-%m-%d %H:%M:%S')
in_ct systemctl restart ailurus || fail "systemctl restart ailurus with the test rule"
PLACEMENT=slices
in_ct journalctl -u ailurus --no-pager -o cat --since "$tb" > "$WORK/journal.txt"
grep -q 'cgroup quotas installed.*backend=systemd' "$WORK/journal.txt" || { grep -i 'quota' "$WORK/journal.txt" >&2; fail "the agent did not get its slices from systemd"; }
grep 'cgroup quotas installed' "$WORK/journal.txt" | tail -1
[ "$(show ailurus-shards.slice ControlGroup)" = /ailurus.slice/ailurus-shards.slice ] || fail "ailurus-shards.slice is not under ailurus.slice"
[ "$(show ailurus-sidecars.slice ControlGroup)" = /ailurus.slice/ailurus-sidecars.slice ] || fail "ailurus-sidecars.slice is not under ailurus.slice"
check_placement
in_ct systemd-cgls --no-pager -u ailurus.slice | tee "$WORK/cgls.txt"
grep -q 'ailurus-shards.slice' "$WORK/cgls.txt" || fail "systemd-cgls shows no ailurus-shards.slice"
[ "$(grep -c 'ailurus-shard-[0-9]*\.scope' "$WORK/cgls.txt")" -eq "$SMP" ] || fail "systemd-cgls does not show $SMP shard scopes"
[ "$(grep -c 'ailurus internal shard' "$WORK/cgls.txt")" -eq "$SMP" ] || fail "systemd-cgls does not show $SMP shard processes"
in_ct systemctl status ailurus-shards.slice --no-pager > "$WORK/status-shards.txt" || true
grep -q 'ailurus-shard-[0-9]*\.scope' "$WORK/status-shards.txt" || { cat "$WORK/status-shards.txt"; fail "systemctl status ailurus-shards.slice shows no scope"; }
expect ailurus-shards.slice CPUWeight 1000
expect ailurus-shards.slice AllowedCPUs "$(in_ct bash -c 'grep Cpus_allowed_list /proc/self/status | cut -f2')"
expect ailurus-sidecars.slice CPUQuotaPerSecUSec 200ms
expect ailurus-sidecars.slice CPUQuotaPeriodUSec 100ms
expect ailurus-sidecars.slice MemoryMax 1073741824
if $V1; then # what the kernel enforces (systemd maps CPUWeight 1000 to cpu.shares 10240)
  [ "$(kcg cpu/ailurus.slice/ailurus-shards.slice/cpu.shares)" = 10240 ] || fail "shards cpu.shares $(kcg cpu/ailurus.slice/ailurus-shards.slice/cpu.shares)"
  [ "$(kcg cpu/ailurus.slice/ailurus-sidecars.slice/cpu.cfs_quota_us)" = 20000 ] || fail "sidecars cpu.cfs_quota_us $(kcg cpu/ailurus.slice/ailurus-sidecars.slice/cpu.cfs_quota_us)"
  [ "$(kcg cpu/ailurus.slice/ailurus-sidecars.slice/cpu.cfs_period_us)" = 100000 ] || fail "sidecars cpu.cfs_period_us"
  [ "$(kcg memory/ailurus.slice/ailurus-sidecars.slice/memory.limit_in_bytes)" = 1073741824 ] || fail "sidecars memory.limit_in_bytes $(kcg memory/ailurus.slice/ailurus-sidecars.slice/memory.limit_in_bytes)"
  echo "kernel: shards cpu.shares=10240; sidecars cpu.cfs_quota_us=20000/100000, memory.limit_in_bytes=1073741824"
fi
# journald files a shard's lines under its scope (ailurus-shards.slice), except
# those of its first seconds, which it still attributes to ailurus.service.
in_ct journalctl -u ailurus -u ailurus-shards.slice --no-pager -o cat --since "$tb" SHARD=1 > "$WORK/journal-shard1.txt"
grep -q 'shard serving' "$WORK/journal-shard1.txt" || fail "journalctl -u ailurus -u ailurus-shards.slice SHARD=1 lacks 'shard serving'"
in_ct journalctl -u 'ailurus*' --no-pager -o cat --since "$tb" SHARD=1 > "$WORK/journal-glob.txt"
grep -q 'shard serving' "$WORK/journal-glob.txt" || fail "journalctl -u 'ailurus*' SHARD=1 lacks 'shard serving'"
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "with the slices consumed $got records, want 1000"
kill_shard # the new shard has a scope of its own

# The sidecars' CPU quota, enforced: no uploader exists yet, so a busy loop
# stands in for one. It runs as a unit in ailurus-sidecars.slice while the
# same loop runs in system.slice, and each one's CPU time over a few seconds
# (utime+stime from the container's /proc/<pid>/stat) is its share of one CPU.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$CPID/root/proc/$1/stat"; }
# burn_shares: sets IN and OUT to the percent of one CPU the loop got inside
# the sidecars' slice and outside it.
burn_shares() {
  local pin pout a0 b0 a1 b1 t0 t1 ccg
  in_ct systemd-run --quiet --unit=ailurus-sidecar-burn --slice=ailurus-sidecars.slice sh -c 'while :; do :; done'
  in_ct systemd-run --quiet --unit=ailurus-burn-outside sh -c 'while :; do :; done'
  pin=$(show ailurus-sidecar-burn.service MainPID)
  pout=$(show ailurus-burn-outside.service MainPID)
  [ "${pin:-0}" -gt 0 ] && [ "${pout:-0}" -gt 0 ] || fail "the busy loops did not start ($pin, $pout)"
  ccg=$(in_ct cat "/proc/$pin/cgroup" | awk -F: '$2 ~ /(^|,)cpu(,|$)/ || $1 == 0 {print $3; exit}')
  [[ $ccg == */ailurus.slice/ailurus-sidecars.slice* ]] || fail "the loop in the sidecars' slice is in cpu cgroup $ccg"
  sleep 1 # past the loops' start
  t0=$(date +%s.%N); a0=$(cpu_ticks "$pin"); b0=$(cpu_ticks "$pout")
  sleep 5
  t1=$(date +%s.%N); a1=$(cpu_ticks "$pin"); b1=$(cpu_ticks "$pout")
  in_ct systemctl stop ailurus-sidecar-burn ailurus-burn-outside
  IN=$(awk -v d=$((a1 - a0)) -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", 100 * d / hz / (t1 - t0) }')
  OUT=$(awk -v d=$((b1 - b0)) -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", 100 * d / hz / (t1 - t0) }')
  echo "busy loop over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: ${IN}% of a CPU in ailurus-sidecars.slice (cpu cgroup $ccg), ${OUT}% in system.slice"
  [ "$OUT" -gt 60 ] || fail "the loop outside the slice got only ${OUT}% of a CPU: the host is too busy to tell a quota"
}

step "the sidecars' CPU quota is enforced: a busy loop in ailurus-sidecars.slice"
burn_shares
[ "$IN" -le 30 ] || fail "the loop in ailurus-sidecars.slice (CPUQuota=20%) got ${IN}% of a CPU"
[ "$IN" -ge 10 ] || fail "the loop in ailurus-sidecars.slice got ${IN}% of a CPU, want about 20%: did it run?"
IN20=$IN OUT20=$OUT

step "sidecar_cpu_quota_percent: 10 and sidecar_memory_max_bytes: 512 MiB in ailurus.yaml"
# A bad value is reported by `ailurus start -t`, naming the key and where it came from.
if in_ct env AILURUS_SIDECAR_CPU_QUOTA_PERCENT=0 ailurus start -t --config /etc/ailurus/ailurus.yaml > "$WORK/check.txt" 2>&1; then
  fail "ailurus start -t accepted AILURUS_SIDECAR_CPU_QUOTA_PERCENT=0"
fi
grep -q 'env AILURUS_SIDECAR_CPU_QUOTA_PERCENT: redpanda.sidecar_cpu_quota_percent' "$WORK/check.txt" \
  || { cat "$WORK/check.txt"; fail "ailurus start -t does not name AILURUS_SIDECAR_CPU_QUOTA_PERCENT"; }
grep 'sidecar_cpu_quota_percent' "$WORK/check.txt"
sed -i 's|^  data_directory: .*|&\n  sidecar_cpu_quota_percent: 10\n  sidecar_memory_max_bytes: 536870912|' "$ROOTFS/etc/ailurus/ailurus.yaml"
in_ct ailurus start -t --config /etc/ailurus/ailurus.yaml
tb=$(in_ct date '+%Y-%m-%d %H:%M:%S')
in_ct systemctl restart ailurus || fail "restart with sidecar_cpu_quota_percent: 10"
in_ct journalctl -u ailurus --no-pager -o cat --since "$tb" > "$WORK/journal.txt"
grep -q 'cgroup quotas installed.*backend=systemd.*sidecar_cpu_quota_percent=10 sidecar_memory_max_bytes=536870912' "$WORK/journal.txt" \
  || { grep -i 'quota' "$WORK/journal.txt" >&2; fail "the agent did not log the configured sidecar limits"; }
expect ailurus-sidecars.slice CPUQuotaPerSecUSec 100ms
expect ailurus-sidecars.slice MemoryMax 536870912
if $V1; then
  [ "$(kcg cpu/ailurus.slice/ailurus-sidecars.slice/cpu.cfs_quota_us)" = 10000 ] || fail "sidecars cpu.cfs_quota_us $(kcg cpu/ailurus.slice/ailurus-sidecars.slice/cpu.cfs_quota_us), want 10000"
  [ "$(kcg memory/ailurus.slice/ailurus-sidecars.slice/memory.limit_in_bytes)" = 536870912 ] || fail "sidecars memory.limit_in_bytes $(kcg memory/ailurus.slice/ailurus-sidecars.slice/memory.limit_in_bytes)"
  echo "kernel: sidecars cpu.cfs_quota_us=10000/100000, memory.limit_in_bytes=536870912"
elif $V2; then
  [ "$(kcg ailurus.slice/ailurus-sidecars.slice/cpu.max)" = "10000 100000" ] || fail "sidecars cpu.max $(kcg ailurus.slice/ailurus-sidecars.slice/cpu.max)"
  [ "$(kcg ailurus.slice/ailurus-sidecars.slice/memory.max)" = 536870912 ] || fail "sidecars memory.max $(kcg ailurus.slice/ailurus-sidecars.slice/memory.max)"
  echo "kernel: sidecars cpu.max=10000 100000, memory.max=536870912"
fi
PLACEMENT=slices
check_placement
burn_shares
[ "$IN" -le 15 ] || fail "the loop in ailurus-sidecars.slice (CPUQuota=10%) got ${IN}% of a CPU"
[ "$IN" -ge 5 ] || fail "the loop in ailurus-sidecars.slice got ${IN}% of a CPU, want about 10%: did it run?"
echo "sidecar quota enforced: 20% -> ${IN20}% (outside ${OUT20}%), 10% -> ${IN}% (outside ${OUT}%)"
sed -i '/^  sidecar_\(cpu_quota_percent\|memory_max_bytes\):/d' "$ROOTFS/etc/ailurus/ailurus.yaml" # the next restart is back to the defaults

step "watchdog: a shard that stops reporting makes systemd restart the node"
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
grep -q 'feeding the systemd watchdog' "$WORK/journal.txt" || fail "the agent does not feed the systemd watchdog"
mkdir -p "$ROOTFS/etc/systemd/system/ailurus.service.d"
printf '[Service]\nWatchdogSec=4\n' > "$ROOTFS/etc/systemd/system/ailurus.service.d/watchdog.conf"
in_ct systemctl daemon-reload
in_ct systemctl restart ailurus
before=$(in_ct systemctl show -p NRestarts --value ailurus)
shards=($(agent_children)); shard=${shards[0]:-} # not `| head -1`: SIGPIPE under pipefail
[ -n "$shard" ] || fail "no shard process under the agent"
in_ct bash -c "kill -STOP $shard" # alive to the agent's supervisor, silent on the bus
deadline=$(( $(date +%s) + 30 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  [ "$(in_ct systemctl show -p NRestarts --value ailurus)" -gt "$before" ] && break
  sleep 0.5
done
[ "$(in_ct systemctl show -p NRestarts --value ailurus)" -gt "$before" ] || fail "no watchdog restart within 30 s of a frozen shard"
in_ct systemctl is-active --quiet ailurus || in_ct systemctl start ailurus
[ "$(in_ct systemctl is-active ailurus)" = active ] || fail "not active after the watchdog restart"
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
grep -E 'Watchdog timeout|shards silent' "$WORK/journal.txt" | head -3
check_placement # the slices the killed agent left are replaced
rm -r "$ROOTFS/etc/systemd/system/ailurus.service.d"
in_ct systemctl daemon-reload
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "after the watchdog restart consumed $got records, want 1000"
echo "watchdog restart: data intact, unit active"

step "systemctl stop is clean"
t0=$(date +%s)
in_ct systemctl stop ailurus
took=$(( $(date +%s) - t0 ))
result=$(in_ct systemctl show -p Result --value ailurus)
[ "$result" = success ] || fail "stop result $result"
[ "$took" -lt 45 ] || fail "stop took $took s"
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
grep -q 'node stopped' "$WORK/journal.txt" || fail "no 'node stopped' in the journal"
for u in ailurus-shards.slice ailurus-sidecars.slice; do
  [ "$(show $u LoadState)" = not-found ] || fail "$u left after stop ($(show $u ActiveState))"
done
echo "stopped in ${took}s, result $result; slices removed"
rm "$ROOTFS/etc/polkit-1/rules.d/49-ailurus-test.rules"

step "(c) no polkit rule, no delegation: one log line, no quotas, the node runs"
mv "$ROOTFS/usr/share/polkit-1/rules.d/50-ailurus.rules" "$WORK/"
in_ct systemctl restart polkit
mkdir -p "$ROOTFS/etc/systemd/system/ailurus.service.d"
printf '[Service]\nDelegate=no\n' > "$ROOTFS/etc/systemd/system/ailurus.service.d/nodelegate.conf"
in_ct systemctl daemon-reload
t0=$(in_ct date '+%Y-%m-%d %H:%M:%S')
in_ct systemctl start ailurus || fail "ailurus did not start without polkit's consent or delegation"
in_ct journalctl -u ailurus --no-pager -o cat --since "$t0" > "$WORK/journal.txt"
[ "$(grep -c 'running without cgroup quotas' "$WORK/journal.txt")" -eq 1 ] || fail "want one 'running without cgroup quotas' line"
grep 'running without cgroup quotas' "$WORK/journal.txt"
grep -q 'running without cgroup quotas.*systemd: .*; cgroupfs: ' "$WORK/journal.txt" || fail "the line does not name both refusals"
PLACEMENT=service
check_placement
[ "$(show ailurus-shards.slice ActiveState)" = inactive ] \
  || fail "ailurus-shards.slice is $(show ailurus-shards.slice LoadState)/$(show ailurus-shards.slice ActiveState) without polkit's consent"
echo "agent + $SMP shards in ailurus.service, no slices"
in_ct systemctl stop ailurus
rm -r "$ROOTFS/etc/systemd/system/ailurus.service.d"
in_ct systemctl daemon-reload
mv "$WORK/50-ailurus.rules" "$ROOTFS/usr/share/polkit-1/rules.d/"

step "reinstall (upgrade path) keeps the edited config and the data"
in_ct dpkg -i /root/ailurus.deb >/dev/null
grep -q 'auto_create_topics_enabled: true' "$ROOTFS/etc/ailurus/ailurus.yaml" || fail "upgrade replaced the edited /etc/ailurus/ailurus.yaml"
[ -d "$ROOTFS/var/lib/ailurus/data/kafka/pkgtest" ] || fail "upgrade lost the data"
[ "$(in_ct systemctl is-enabled ailurus)" = enabled ] || fail "not enabled after upgrade"
echo ok

step "dpkg --purge removes the data and the user"
in_ct dpkg --purge ailurus >/dev/null
[ ! -e "$ROOTFS/var/lib/ailurus" ] || fail "/var/lib/ailurus left after purge"
! in_ct getent passwd ailurus >/dev/null || fail "ailurus user left after purge"
echo ok
