#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the app and its tests need, if any is missing:
# Qt's runtime libraries, CJK fonts, GNOME Keyring + D-Bus (the OS credential store on Linux),
# Xvfb for looking at the real window on a machine without a screen, and PostgreSQL (the
# central server's production database; the server tests start a private one from its binaries,
# and a hot standby of one with pg_basebackup, from postgresql-client, which postgresql pulls in).
# Does nothing on other systems (Windows tills install the bundle from build.spec).
set -euo pipefail
command -v dpkg >/dev/null 2>&1 || exit 0
PACKAGES=(
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libglib2.0-0 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0
  fonts-noto-cjk gnome-keyring dbus dbus-x11 xvfb
  postgresql
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
