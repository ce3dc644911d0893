#!/usr/bin/env bash
# Download the raw training material (Debian wallpaper, clip-art and font packages; PyPI font wheels) that
# scripts/build_dataset.py turns into ../data. Only registries are used; nothing is installed.
#   bash scripts/fetch_data.sh [RAW_DIR]      (default ../rawdata)
set -euo pipefail
RAW="${1:-../rawdata}"
mkdir -p "$RAW/debs" "$RAW/wheels" "$RAW/fontwheels"
DEBS=(mate-backgrounds plasma-workspace-wallpapers gnome-backgrounds ukui-wallpapers
      lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes openclipart-png
      fonts-dejavu-extra fonts-dejavu-core fonts-urw-base35 fonts-open-sans fonts-roboto-unhinted
      fonts-liberation2 fonts-croscore fonts-lato fonts-comic-neue fonts-bebas-neue
      fonts-noto-core fonts-noto-cjk fonts-noto-cjk-extra fonts-freefont-ttf fonts-wqy-zenhei fonts-wqy-microhei
      fonts-arphic-uming fonts-arphic-ukai fonts-vlgothic fonts-ipaexfont-gothic fonts-unfonts-core fonts-nanum
      fonts-hosny-amiri fonts-kacst culmus fonts-deva-extra fonts-lohit-deva fonts-tlwg-garuda-ttf
      fonts-tlwg-loma-ttf fonts-tlwg-kinnari-ttf fonts-tlwg-norasi-ttf fonts-tlwg-purisa-ttf fonts-tlwg-waree-ttf
      fonts-tlwg-umpush-ttf fonts-tlwg-sawasdee-ttf)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
(cd "$RAW/debs" && for p in "${DEBS[@]}"; do ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" || echo "missing: $p"; done)
WHEELS=(anton oswald archivo-black barlow-condensed roboto-condensed saira-condensed pt-sans-narrow teko
        russo-one luckiest-guy permanent-marker bungee kalam alumni-sans fjalla-one)
for w in "${WHEELS[@]}"; do
    python3 -m pip download -q --no-deps -d "$RAW/wheels" "fontpkg-$w" || echo "missing: fontpkg-$w"
done
# build_dataset.py reads the wheels unpacked: fontwheels/fontpkg_<name>/files/<font>
for whl in "$RAW"/wheels/*.whl; do python3 -m zipfile -e "$whl" "$RAW/fontwheels"; done
echo "raw data in $RAW: $(ls "$RAW/debs" | wc -l) debs, $(ls "$RAW/wheels" | wc -l) wheels"
