#!/bin/sh
# prerm of ailurus (deb: remove|upgrade|deconfigure; rpm: %preun with $1 = 0
# on erase, 1 on upgrade). Stops and disables the node only when it is being
# removed; an upgrade restarts it from postinst instead.
set -e

removing=false
case "$1" in
  remove|deconfigure|0) removing=true ;;
esac

if $removing && [ -d /run/systemd/system ]; then
  systemctl stop ailurus.service ailurus-tuner.service >/dev/null 2>&1 || true
  systemctl disable ailurus.service ailurus-tuner.service >/dev/null 2>&1 || true
fi
exit 0
