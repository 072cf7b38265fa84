#!/bin/sh
# Puts Handshake Doctor into this user's application menu, pointing at this folder.
# No root needed; run it again after moving the folder. `--remove` takes the entry out again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
id=org.handshakedoctor.HandshakeDoctor
data="${XDG_DATA_HOME:-$HOME/.local/share}"
desktop="$data/applications/$id.desktop"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$desktop" "$data"/icons/hicolor/*/apps/"$id".png
  echo "Removed Handshake Doctor from the application menu."
  exit 0
fi

for dir in "$here"/share/icons/hicolor/*/apps; do
  size=$(basename "$(dirname "$dir")")
  mkdir -p "$data/icons/hicolor/$size/apps"
  cp "$dir/$id.png" "$data/icons/hicolor/$size/apps/$id.png"
done
mkdir -p "$data/applications"
# The folder may contain spaces: quote the path as the Desktop Entry spec asks.
sed -e "s|^Exec=.*|Exec=\"$here/HandshakeDoctor\"|" -e "/^TryExec=/d" \
  "$here/share/applications/$id.desktop" > "$desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "Added Handshake Doctor to the application menu ($desktop)."
