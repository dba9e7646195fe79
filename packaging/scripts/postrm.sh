#!/bin/sh
# postrm of ailurus. Only `dpkg --purge` (or `apt purge`) removes the data
# directory and the ailurus user: a plain remove, an upgrade and an rpm erase
# keep both, so reinstalling finds the node's data where it was.
set -e

if [ "$1" = "purge" ]; then
  rm -rf /var/lib/ailurus
  rm -rf /etc/ailurus
  if getent passwd ailurus >/dev/null 2>&1; then
    if command -v deluser >/dev/null 2>&1; then
      deluser --quiet --system ailurus >/dev/null 2>&1 || true
    else
      userdel ailurus >/dev/null 2>&1 || true
    fi
  fi
  if getent group ailurus >/dev/null 2>&1; then
    if command -v delgroup >/dev/null 2>&1; then
      delgroup --quiet --system ailurus >/dev/null 2>&1 || true
    else
      groupdel ailurus >/dev/null 2>&1 || true
    fi
  fi
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
