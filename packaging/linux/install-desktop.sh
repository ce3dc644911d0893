#!/usr/bin/env sh
# Put MemeClean on your own desktop (no root needed): the application menu entry, its icon, and "Open With MemeClean"
# for PNG, JPEG, GIF, WebP, BMP and TIFF pictures in the file manager.
#
#     ./install-desktop.sh          (from the unpacked MemeClean folder, or packaging/linux/ in a source checkout)
#
# Writes $XDG_DATA_HOME/applications/memeclean.desktop (XDG_DATA_HOME defaults to ~/.local/share) pointing at the
# memeclean-gui next to this script (the bundle) or, failing that, the one on your PATH (pip install), and the icons
# under $XDG_DATA_HOME/icons/hicolor/. Run it again after moving the folder; ./uninstall-desktop.sh undoes it.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
case "$DATA" in /*) ;; *) DATA="$HOME/.local/share" ;; esac  # the spec: a relative value is ignored

if [ -x "$HERE/memeclean-gui" ]; then
    PROGRAM="$HERE/memeclean-gui"
elif command -v memeclean-gui >/dev/null 2>&1; then
    PROGRAM=$(command -v memeclean-gui)
else
    echo "install-desktop.sh: no memeclean-gui next to this script or on PATH" >&2
    exit 1
fi
case "$PROGRAM" in
    *[!A-Za-z0-9/._+-]*) echo "install-desktop.sh: please move MemeClean to a folder whose path has no spaces or" \
        "special characters (now: $PROGRAM)" >&2; exit 1 ;;
esac

mkdir -p "$DATA/applications"
# The entry with the absolute program path (Exec and TryExec); everything else as shipped.
sed -e "s|^Exec=memeclean-gui |Exec=$PROGRAM |" -e "s|^TryExec=memeclean-gui\$|TryExec=$PROGRAM|" \
    "$HERE/share/applications/memeclean.desktop" > "$DATA/applications/memeclean.desktop.tmp"
mv "$DATA/applications/memeclean.desktop.tmp" "$DATA/applications/memeclean.desktop"

for icon in "$HERE"/share/icons/hicolor/*/apps/memeclean.png; do
    size=$(basename "$(dirname "$(dirname "$icon")")")
    mkdir -p "$DATA/icons/hicolor/$size/apps"
    cp "$icon" "$DATA/icons/hicolor/$size/apps/memeclean.png"
done

# Refresh the caches where the tools exist (the MIME cache makes "Open With" list MemeClean at once).
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$DATA/icons/hicolor/index.theme" ] \
    && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "MemeClean is on your desktop: $DATA/applications/memeclean.desktop -> $PROGRAM"
