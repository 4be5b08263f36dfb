#!/usr/bin/env bash
# Runs a command where the OS credential store is reachable.
# On a Linux desktop the session's keyring is used as it is. On a machine with no session bus
# (a server, CI, a container) this starts a private D-Bus session and an unlocked GNOME Keyring
# for the command: its keyring file lives in ~/.local/share/keyrings and is unlocked with
# $POS_MEMBER_KEYRING_PASSWORD (default "pos-member"), so the demo's data key survives reruns.
set -euo pipefail
if [ "$(uname -s)" != "Linux" ] || [ -n "${POS_MEMBER_KEYRING_READY:-}" ] \
   || [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec "$@"
fi
exec dbus-run-session -- bash -c '
  printf %s "${POS_MEMBER_KEYRING_PASSWORD:-pos-member}" \
    | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export POS_MEMBER_KEYRING_READY=1
  exec "$@"' bash "$@"
