#!/usr/bin/env bash
# Build the Debian package of MemeClean from a built bundle (packaging/build.sh calls this):
#
#     bash packaging/deb/build-deb.sh dist/memeclean VERSION dist/
#
# -> dist/memeclean_VERSION_amd64.deb (xz), holding:
#   /opt/memeclean/                        the bundle as built (memeclean, memeclean-gui, _internal/, README.txt)
#   /usr/bin/memeclean, memeclean-gui      links into /opt/memeclean (the name started picks the front end)
#   /usr/share/applications/memeclean.desktop   the menu entry; its MimeType line is the "Open With" association
#   /usr/share/icons/hicolor/*/apps/memeclean.png   the icon in every size packaging/linux/ has
#   /usr/share/doc/memeclean/              copyright (MemeClean's licence and the bundled parts') and changelog
# No maintainer scripts: dpkg's file triggers of desktop-file-utils and hicolor-icon-theme refresh the menu, MIME and
# icon caches on install and removal, and removal leaves nothing behind (the app writes only in the user's folders).
# Depends lists the packages of the system libraries the bundle's libraries link and do not carry (found with ldd
# and dpkg -S on this machine).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LINUX="$HERE/../linux"
BUNDLE=$(cd "$1" && pwd)
VERSION=$2
OUT=$(cd "$3" && pwd)
ARCH=$(dpkg --print-architecture)
DEB="$OUT/memeclean_${VERSION}_${ARCH}.deb"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
umask 022

# The bundle, without the per-user desktop scripts and files (the package installs them for everyone).
install -d "$STAGE/opt/memeclean" "$STAGE/usr/bin" "$STAGE/usr/share/applications" "$STAGE/usr/share/doc/memeclean"
tar -C "$BUNDLE" --exclude=./install-desktop.sh --exclude=./uninstall-desktop.sh --exclude=./share -cf - . |
    tar -C "$STAGE/opt/memeclean" -xf -
# Shared libraries are read, not run: no execute bit (PyInstaller copies the wheels' modes).
find "$STAGE/opt/memeclean" -type f \( -name '*.so' -o -name '*.so.*' \) -exec chmod 644 {} +
ln -s /opt/memeclean/memeclean "$STAGE/usr/bin/memeclean"
ln -s /opt/memeclean/memeclean-gui "$STAGE/usr/bin/memeclean-gui"
install -m 644 "$LINUX/share/applications/memeclean.desktop" "$STAGE/usr/share/applications/"
for icon in "$LINUX"/share/icons/hicolor/*/apps/memeclean.png; do
    size=$(basename "$(dirname "$(dirname "$icon")")")
    install -d "$STAGE/usr/share/icons/hicolor/$size/apps"
    install -m 644 "$icon" "$STAGE/usr/share/icons/hicolor/$size/apps/"
done
install -D -m 644 "$HERE/memeclean.lintian-overrides" "$STAGE/usr/share/lintian/overrides/memeclean"

# Documentation: copyright (machine-readable) and a changelog dated like the commit it was built from.
EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$HERE" log -1 --format=%ct 2>/dev/null || date +%s)}
{
    cat "$HERE/copyright"  # ends with the stand-alone "License: MIT" paragraph, whose text follows
    sed -e '1,/^Copyright/d' "$HERE/../../LICENSE" | sed -e '/./,$!d' -e 's/^$/./' -e 's/^/ /'
} > "$STAGE/usr/share/doc/memeclean/copyright"
printf 'memeclean (%s) unstable; urgency=medium\n\n  * MemeClean %s, built from the project'"'"'s PyInstaller bundle.\n\n -- %s  %s\n' \
    "$VERSION" "$VERSION" "MemeClean developers <memeclean@users.noreply.github.com>" \
    "$(LC_ALL=C date -u -R -d "@$EPOCH")" | gzip -9n > "$STAGE/usr/share/doc/memeclean/changelog.gz"
find "$STAGE" -exec touch -h -d "@$EPOCH" {} +

# The system libraries the bundle links but does not carry -> their packages.
LIBS=$(find "$STAGE/opt/memeclean" -type f \( -name '*.so' -o -name '*.so.*' -o -name memeclean \) -print0 |
    LD_LIBRARY_PATH="$STAGE/opt/memeclean/_internal" xargs -0 -n 50 ldd 2>/dev/null |
    awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /\/opt\/memeclean\// {print $3}' | sort -u)
PACKAGES=$(for lib in $LIBS; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true; done |
    cut -d: -f1 | sort -u | grep -v '^libc6$' || true)
GLIBC=$(ldd --version | head -n 1 | grep -o '[0-9.]*$')
DEPENDS="libc6 (>= $GLIBC)$(printf ', %s' $PACKAGES)"

install -d "$STAGE/DEBIAN"
(cd "$STAGE" && find opt usr -type f -print0 | sort -z | xargs -0 md5sum) > "$STAGE/DEBIAN/md5sums"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: memeclean
Version: $VERSION
Architecture: $ARCH
Maintainer: MemeClean developers <memeclean@users.noreply.github.com>
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $DEPENDS
Section: graphics
Priority: optional
Description: take a meme, give back its clean template, caption it anew
 MemeClean finds the caption text in a meme (white Impact-style text with a
 black outline, but also black, coloured and shadowed text) and fills in what
 was behind it, leaving every other pixel as it was. A desktop app and a
 command line, with the trained model, PyTorch (CPU), Qt and Python inside:
 nothing is downloaded at run time.
CONTROL
chmod 644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"
rm -f "$DEB"
# xz -9: a 64 MiB dictionary instead of -6's 8 MiB finds the repeats across the bundle's large libraries
dpkg-deb --root-owner-group -Zxz -z9 --build "$STAGE" "$DEB" >/dev/null
echo "build-deb.sh: $DEB ($(du -h "$DEB" | cut -f1)); Depends: $DEPENDS"
