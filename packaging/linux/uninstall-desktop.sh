#!/usr/bin/env sh
# Take MemeClean off your desktop again: removes what ./install-desktop.sh wrote under $XDG_DATA_HOME
# (default ~/.local/share): the menu entry and the icons. The MemeClean folder itself, your settings, models and log
# stay where they are.
set -eu
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
case "$DATA" in /*) ;; *) DATA="$HOME/.local/share" ;; esac

rm -f "$DATA/applications/memeclean.desktop"
for icon in "$DATA"/icons/hicolor/*/apps/memeclean.png; do
    [ -e "$icon" ] && rm -f "$icon"
done
command -v update-desktop-database >/dev/null 2>&1 && [ -d "$DATA/applications" ] \
    && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$DATA/icons/hicolor/index.theme" ] \
    && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "MemeClean is off your desktop ($DATA)"
