#!/bin/sh
# postinst of ailurus (deb: configure; rpm: %post with $1 = 1 install, 2 upgrade).
# Creates the system user, gives it the data directory, and enables the node.
set -e

if ! getent group ailurus >/dev/null 2>&1; then
  if command -v addgroup >/dev/null 2>&1; then
    addgroup --system --quiet ailurus
  else
    groupadd --system ailurus
  fi
fi
if ! getent passwd ailurus >/dev/null 2>&1; then
  if command -v adduser >/dev/null 2>&1; then
    adduser --system --quiet --ingroup ailurus --home /var/lib/ailurus \
      --no-create-home --shell /usr/sbin/nologin --gecos "Ailurus node" ailurus
  else
    useradd --system --gid ailurus --home-dir /var/lib/ailurus --no-create-home \
      --shell /sbin/nologin --comment "Ailurus node" ailurus
  fi
fi

mkdir -p /var/lib/ailurus/data /var/lib/ailurus/coredump
chown ailurus:ailurus /var/lib/ailurus /var/lib/ailurus/data /var/lib/ailurus/coredump
chmod 0750 /var/lib/ailurus /var/lib/ailurus/data

# Only when systemd runs (not in a container build or a chroot).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl enable ailurus-tuner.service ailurus.service >/dev/null 2>&1 || true
  # On upgrade, restart a running node onto the new binary.
  if systemctl is-active --quiet ailurus.service; then
    systemctl try-restart ailurus.service || true
  fi
fi
exit 0
