#!/usr/bin/env bash
# End-to-end test of the .deb in a real systemd (`make test-packaging`, root only;
# not part of `make test`). Builds the package, boots a Debian bookworm rootfs with
# systemd-nspawn (debootstrapped once, then cached as a tarball under
# ~/.cache/ailurus/), installs the package with dpkg -i and checks what an operator
# would: the unit is active under ailurus.slice with the agent and one process per
# shard, kcat on the host produces and consumes, the journal has the banner and
# structured fields, a restart keeps the data, a killed shard is restarted while the
# unit stays active, and a stop is clean. Then checks the rpm with rpm -qpl/--scripts.
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
TARBALL=$CACHE/bookworm-systemd-rootfs.tar.gz
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
         /usr/lib/systemd/system/ailurus.slice /usr/lib/systemd/system/ailurus-tuner.service /var/lib/ailurus; do
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
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,adduser bookworm "$WORK/bootstrap" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
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
in_ct systemctl status ailurus --no-pager | head -20
procs() {
  local f
  for f in "/proc/$CPID/root/sys/fs/cgroup/unified$cg/cgroup.procs" "/proc/$CPID/root/sys/fs/cgroup/systemd$cg/cgroup.procs" \
           "/proc/$CPID/root/sys/fs/cgroup$cg/cgroup.procs"; do
    [ -r "$f" ] && { wc -l < "$f"; return; }
  done
  echo 0
}
n=$(procs)
[ "$n" -eq $((SMP + 1)) ] || fail "$n processes in the unit's cgroup, want the agent + $SMP shards"
echo "$n processes: agent + $SMP shards"

step "produce and consume with kcat from the host"
seq 1 1000 | sed 's/^/pkg-/' | kcat -b "127.0.0.1:$KPORT" -P -t pkgtest -X topic.request.required.acks=-1
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "consumed $got records, want 1000"
echo "1000 records produced and consumed"

step "journal: banner and structured fields"
# Into files first: `journalctl | grep -q` dies of SIGPIPE under pipefail.
in_ct journalctl -u ailurus --no-pager -o cat > "$WORK/journal.txt"
in_ct journalctl -u ailurus --no-pager -o cat SUBSYS=agent > "$WORK/journal-agent.txt"
in_ct journalctl -u ailurus --no-pager -o cat SHARD=1 > "$WORK/journal-shard1.txt"
in_ct journalctl -u ailurus --no-pager -o verbose -p warning..info > "$WORK/journal-verbose.txt"
grep -q 'ailurus starting' "$WORK/journal.txt" || fail "no startup banner in journalctl -u ailurus"
grep -q 'node ready' "$WORK/journal-agent.txt" || fail "journalctl -u ailurus SUBSYS=agent lacks 'node ready'"
grep -q 'shard serving' "$WORK/journal-shard1.txt" || fail "journalctl -u ailurus SHARD=1 lacks 'shard serving'"
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

step "kill -9 a shard: the agent restarts it, the unit stays active"
main=$(in_ct systemctl show -p MainPID --value ailurus)
shard=$(in_ct pgrep -P "$main" 2>/dev/null | head -1 || true)
if [ -z "$shard" ]; then # minbase has no procps: find a child of the agent by hand
  for p in /proc/$CPID/root/proc/[0-9]*; do
    [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$main" ] && { shard=${p##*/}; break; }
  done
fi
[ -n "$shard" ] || fail "no shard process under agent $main"
in_ct bash -c "kill -9 $shard"
for _ in $(seq 1 100); do [ "$(procs)" -eq $((SMP + 1)) ] && [ ! -d "/proc/$CPID/root/proc/$shard" ] && break; sleep 0.1; done
sleep 2
[ "$(in_ct systemctl is-active ailurus)" = active ] || fail "unit not active after a shard was killed"
[ "$(procs)" -eq $((SMP + 1)) ] || fail "shard not restarted: $(procs) processes"
echo "shard pid $shard killed and restarted; unit active"

step "systemctl restart keeps the data"
in_ct systemctl restart ailurus
got=$(kcat -b "127.0.0.1:$KPORT" -C -t pkgtest -e -q | wc -l)
[ "$got" -eq 1000 ] || fail "after restart consumed $got records, want 1000"
echo "1000 records still there"

step "watchdog: a shard that stops reporting makes systemd restart the node"
grep -q 'feeding the systemd watchdog' "$WORK/journal.txt" || in_ct journalctl -u ailurus --no-pager -o cat | grep -q 'feeding the systemd watchdog' \
  || fail "the agent does not feed the systemd watchdog"
mkdir -p "$ROOTFS/etc/systemd/system/ailurus.service.d"
printf '[Service]\nWatchdogSec=4\n' > "$ROOTFS/etc/systemd/system/ailurus.service.d/watchdog.conf"
in_ct systemctl daemon-reload
in_ct systemctl restart ailurus
before=$(in_ct systemctl show -p NRestarts --value ailurus)
main=$(in_ct systemctl show -p MainPID --value ailurus)
shard=
for p in /proc/$CPID/root/proc/[0-9]*; do
  [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$main" ] && { shard=${p##*/}; break; }
done
[ -n "$shard" ] || fail "no shard process under agent $main"
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
echo "stopped in ${took}s, result $result"

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
