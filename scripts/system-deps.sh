#!/bin/sh
# Makes sure the system libraries Qt needs (and, for `test`, the tools the tests call) are present.
# As root on Debian/Ubuntu it installs what is missing; otherwise it prints the exact apt line.
# Why a script: PySide6 wheels bring Qt but not libGL/libEGL/xkbcommon/fontconfig, and the error Qt
# prints when one is missing names the wrong library (see shared/reference/stack.md).
set -eu
purpose="${1:-run}"

# library soname -> Debian package
RUN_LIBS="libGL.so.1:libgl1 libEGL.so.1:libegl1 libxkbcommon.so.0:libxkbcommon0 \
libglib-2.0.so.0:libglib2.0-0 libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 \
libgssapi_krb5.so.2:libgssapi-krb5-2 libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
libxcb-image.so.0:libxcb-image0 libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-render-util.so.0:libxcb-render-util0 \
libxcb-shape.so.0:libxcb-shape0 libxcb-xkb.so.1:libxcb-xkb1 libxkbcommon-x11.so.0:libxkbcommon-x11-0"
# command -> Debian package, needed only by the tests and `make screenshots`.
# dnsmasq-base is the DNS server binary alone: the tests run it on a loopback port, and the
# `dnsmasq` package would also start a system service on port 53.
# The STARTTLS tests run dovecot (imapd, pop3d) and PostgreSQL from configurations they write, on
# loopback ports: the helpers are looked for where Debian puts them.
TEST_CMDS="pdftotext:poppler-utils pdftoppm:poppler-utils faketime:faketime Xvfb:xvfb xauth:xauth \
openssl:openssl tinyproxy:tinyproxy microsocks:microsocks dnsmasq:dnsmasq-base unshare:util-linux \
dovecot:dovecot-core /usr/lib/dovecot/imap:dovecot-imapd /usr/lib/dovecot/pop3:dovecot-pop3d"

missing=""
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1" ; }
for pair in $RUN_LIBS; do
  lib="${pair%%:*}"; pkg="${pair##*:}"
  have_lib "$lib" || missing="$missing $pkg"
done
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
if [ "$purpose" = "test" ]; then
  for pair in $TEST_CMDS; do
    cmd="${pair%%:*}"; pkg="${pair##*:}"
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing="$missing $pkg"
  done
  # Any version: Debian 12 has 15, Ubuntu 24.04 16.
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$missing postgresql"
fi
# python3 -m venv needs python3-venv on Debian's own Python
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then missing="$missing python3-venv"; fi

missing=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/^ *//;s/ *$//')
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends $missing"
if [ "$(uname -s)" = "Linux" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: $missing"
  case " $missing " in
    *" postgresql "*)  # the tests start their own servers: no system cluster on port 5432
      mkdir -p /etc/postgresql-common/createcluster.d
      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/handshake-doctor.conf ;;
  esac
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
  exit 0
fi
if [ "$(uname -s)" = "Linux" ]; then
  echo "These system packages are missing. Install them, then run make again:" >&2
  echo "  sudo $line" >&2
  [ "$purpose" = "test" ] && exit 1
fi
exit 0
