#!/usr/bin/env bash
# CI check of the Debian package (packaging/build.sh --check runs it): install it into a temporary root with dpkg,
# run the installed `memeclean selftest`, run the desktop entry's Exec line under Xvfb (the installed app opens the
# sample, cleans it and shows it: packaging/check_display.py), remove the package and check nothing is left.
#
#     bash packaging/deb/check-deb.sh dist/memeclean_VERSION_amd64.deb
#
# The links in /usr/bin point at /opt/memeclean (absolute, as Debian's policy wants), so inside the temporary root
# they are followed by hand: ROOT + their target.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEB=$(readlink -f "$1")
PYTHON=${PYTHON:-python3}
fail() { echo "check-deb.sh: $*" >&2; exit 1; }
TARGET=$(mktemp -d)
trap 'rm -rf "$TARGET"' EXIT
mkdir -p "$TARGET/var/lib/dpkg/info" "$TARGET/var/lib/dpkg/updates" "$TARGET/var/lib/dpkg/triggers"
touch "$TARGET/var/lib/dpkg/status" "$TARGET/var/lib/dpkg/available"
DPKG=(dpkg --root="$TARGET" --force-depends --force-script-chrootless --log=/dev/null)
# dpkg gives the files to root, which only root may do; elsewhere the package is unpacked (dpkg-deb -x) and its
# removal is the removal of every path it lists.
AS_ROOT=false
[ "$(id -u)" -eq 0 ] && AS_ROOT=true
if $AS_ROOT; then
    "${DPKG[@]}" -i "$DEB" >/dev/null || fail "dpkg could not install $DEB into $TARGET"
else
    dpkg-deb -x "$DEB" "$TARGET" || fail "dpkg-deb could not unpack $DEB into $TARGET"
fi
in_root() { local link="$TARGET/usr/bin/$1"; [ -L "$link" ] || fail "/usr/bin/$1 is not installed"
    echo "$TARGET$(readlink "$link")"; }
"$(in_root memeclean)" selftest || fail "the installed 'memeclean selftest' failed"

ENTRY="$TARGET/usr/share/applications/memeclean.desktop"
[ -f "$ENTRY" ] || fail "no desktop entry installed"
for size in 16 22 24 32 48 64 128 256 512; do
    [ -f "$TARGET/usr/share/icons/hicolor/${size}x${size}/apps/memeclean.png" ] || fail "no ${size}px icon"
done
EXEC=$(sed -n 's/^Exec=//p' "$ENTRY")
read -r -a WORDS <<< "${EXEC// %f/}"  # the file the menu passes comes from check_display.py (the sample)
"$PYTHON" "$HERE/../check_display.py" xcb -- "$(in_root "${WORDS[0]}")" "${WORDS[@]:1}" \
    || fail "the desktop entry's command ($EXEC) did not show a cleaned meme"

if $AS_ROOT; then
    "${DPKG[@]}" --purge memeclean >/dev/null || fail "dpkg could not remove memeclean"
else
    dpkg-deb --fsys-tarfile "$DEB" | tar -t | sed 's,^\./,,; s,/$,,' | grep . | sort -r |
        while read -r path; do
            if [ -d "$TARGET/$path" ] && [ ! -L "$TARGET/$path" ]; then rmdir "$TARGET/$path" 2>/dev/null || true
            else rm -f "$TARGET/$path"; fi
        done
fi
LEFT=$(find "$TARGET" -mindepth 1 -not -path "$TARGET/var" -not -path "$TARGET/var/lib" -not -path "$TARGET/var/lib/dpkg*")
[ -z "$LEFT" ] || fail "removing the package left files behind: $LEFT"
HOW=$($AS_ROOT && echo "installed with dpkg" || echo "unpacked (not root)")
echo "check-deb.sh: $HOW into a temporary root; selftest and the desktop entry's command passed; removed cleanly"
