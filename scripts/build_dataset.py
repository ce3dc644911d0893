#!/usr/bin/env python3
"""Build MemeClean's local training / validation data from downloaded Debian packages and font wheels.

What it does (all steps are deterministic and re-runnable; outputs are written atomically):

1. Extracts each needed ``.deb`` from ``--debs`` into its own folder under ``--cache`` (``dpkg -x``), so
   every file keeps its package of origin.
2. Wallpapers (mate-backgrounds, plasma-workspace-wallpapers, gnome-backgrounds, ukui-wallpapers,
   lomiri-wallpapers-*, lxqt-themes): groups the files into *designs* (all sizes of one picture, light/dark
   variants), keeps the largest size of each variant, flattens alpha onto the mean colour of the opaque pixels,
   applies EXIF orientation, resizes the long side to at most ``--max-side`` and writes
   ``OUT/{train,val}/images/<pkg>__<name>.jpg`` (JPEG quality 92). Images whose short side is below
   ``--min-short`` are skipped, SVGs are skipped (no SVG renderer installed), exact duplicates are dropped, and a
   few wallpapers that carry text or logos (listed in ``TEXT_WALLPAPERS``) are left out because a caption
   remover must not learn that text belongs to the clean picture.
   About ``--val-fraction`` of the designs of every package go to val (whole designs; chosen by a hash of the
   design name, so the split does not change when files are added).
3. Fonts: the training and validation font lists below (validation families never appear in train). Every font
   is loaded with Pillow and must draw 'ABC' (variable fonts with the variation named in the list); failures
   are dropped and reported. Each font gets its licence next to it as ``<fontfile>.LICENSE.txt``, and
   ``fonts.json`` in each folder lists file, family, source and the variation name to set.
4. Clip-art (optional, ``openclipart-png``): PNGs with real transparency and short side >= 400, spread over
   categories, into ``OUT/{train,val}/clipart/`` (long side <= max-side, RGBA PNG).
5. Writes ``OUT/SOURCES.md`` (file -> package, original path, licence) and ``OUT/READY`` (counts).

Usage::

    python scripts/build_dataset.py --debs ../rawdata/debs --fontwheels ../rawdata/fontwheels \
        --cache ../rawdata/per --out ../data
    python scripts/build_dataset.py --out ../data --pack memeclean-data.tar   # one tar, <= 60 MB (--pack-mb)

``--pack`` builds nothing: it writes the built folder as one tar for a machine with no network
(``scripts/train_gpu.sh``): fonts, licences and SOURCES.md as they are, and the pictures as they are when they
fit, otherwise re-encoded (JPEG quality 90, clip-art PNG) with the largest long side, in steps of 128 px, that keeps
the tar within the limit.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from memeclean_core.files.filenames import safe_name
from memeclean_core.geometry import TRAIN_MAX_SIDE

Image.MAX_IMAGE_PIXELS = 200_000_000

# --------------------------------------------------------------------------------------------- wallpapers
WALLPAPER_PACKAGES = {
    # package: (glob(s) relative to the extracted package root, default licence from training-data.md)
    "mate-backgrounds": (["usr/share/backgrounds/mate/*/*"], "GPL-2+ / CC-BY-SA-4.0 (per file)"),
    "plasma-workspace-wallpapers": (["usr/share/wallpapers/*/contents/images*/*"], "GPL-2+"),
    "gnome-backgrounds": (["usr/share/backgrounds/gnome/*"], "CC-BY-SA-3.0"),
    "ukui-wallpapers": (["usr/share/backgrounds/*"], "CC-BY-SA-3.0"),
    "lomiri-wallpapers-16.04": (["usr/share/backgrounds/*"], "CC-BY / CC-BY-SA / CC0 (per file)"),
    "lomiri-wallpapers-20.04": (["usr/share/backgrounds/*"], "CC-BY-SA-3.0"),
    "lxqt-themes": (["usr/share/lxqt/wallpapers/*"], "LGPL-2.1+"),
}
SHORT_NAMES = {
    "mate-backgrounds": "mate",
    "plasma-workspace-wallpapers": "plasma",
    "gnome-backgrounds": "gnome",
    "ukui-wallpapers": "ukui",
    "lomiri-wallpapers-16.04": "lomiri1604",
    "lomiri-wallpapers-20.04": "lomiri2004",
    "lxqt-themes": "lxqt",
}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp"}
# "<package>/<file stem>" of wallpapers left out because they show text or a logo (checked by eye on a contact
# sheet); a caption remover must not be taught that lettering is part of the clean picture.
TEXT_WALLPAPERS: dict[str, str] = {
    "lxqt-themes/origami-bright-logo": "shows the text 'LXQt'",
    "lxqt-themes/plasma-logo-bright": "shows the text 'LXQt'",
    "lxqt-themes/plasma-logo-dark": "shows the text 'LXQt'",
    "lxqt-themes/triangles-logo": "shows the text 'LXQt'",
    "lxqt-themes/plasma_arch": "shows the text 'archlinux'",
    "mate-backgrounds/GreenTraditional": "shows the text 'The traditional desktop environment'",
    "ukui-wallpapers/focal-ubuntukylin": "shows the text '20.04'",
    "mate-backgrounds/MATE-Stripes-Dark": "shows the text 'MATE'",
    "mate-backgrounds/MATE-Stripes-Light": "shows the text 'MATE'",
}
# desktop colours for wallpapers that are a transparent overlay of one colour (white or black strokes): flattened
# onto their own mean colour they would come out blank
OVERLAY_BACKDROPS = [
    (38, 70, 120),
    (120, 40, 60),
    (40, 110, 70),
    (200, 120, 40),
    (90, 60, 140),
    (60, 130, 150),
    (225, 215, 190),
    (30, 30, 36),
]

# ------------------------------------------------------------------------------------------------- fonts
# (split, family, source kind, location, variation name or None)
#   source kind "wheel": location = "<fontpkg folder>/<file in files/>"; "deb": location = "<package>/<path>"
FONTS: list[tuple[str, str, str, str, str | None]] = [
    ("train", "Anton", "wheel", "fontpkg_anton/Anton-Regular.ttf", None),
    ("train", "Oswald", "wheel", "fontpkg_oswald/Oswald[wght].ttf", "Bold"),
    ("train", "Archivo Black", "wheel", "fontpkg_archivo_black/ArchivoBlack-Regular.ttf", None),
    ("train", "Barlow Condensed", "wheel", "fontpkg_barlow_condensed/BarlowCondensed-Bold.ttf", None),
    ("train", "Barlow Condensed", "wheel", "fontpkg_barlow_condensed/BarlowCondensed-Black.ttf", None),
    ("train", "Roboto Condensed", "wheel", "fontpkg_roboto_condensed/RobotoCondensed[wght].ttf", "Bold"),
    ("train", "Saira Condensed", "wheel", "fontpkg_saira_condensed/SairaCondensed-Bold.ttf", None),
    ("train", "Saira Condensed", "wheel", "fontpkg_saira_condensed/SairaCondensed-ExtraBold.ttf", None),
    ("train", "Saira Condensed", "wheel", "fontpkg_saira_condensed/SairaCondensed-Black.ttf", None),
    ("train", "PT Sans Narrow", "wheel", "fontpkg_pt_sans_narrow/PT_Sans-Narrow-Web-Bold.ttf", None),
    ("train", "Teko", "wheel", "fontpkg_teko/Teko[wght].ttf", "Bold"),
    ("train", "Russo One", "wheel", "fontpkg_russo_one/RussoOne-Regular.ttf", None),
    ("train", "Luckiest Guy", "wheel", "fontpkg_luckiest_guy/LuckiestGuy-Regular.ttf", None),
    ("train", "Permanent Marker", "wheel", "fontpkg_permanent_marker/PermanentMarker-Regular.ttf", None),
    ("train", "Bungee", "wheel", "fontpkg_bungee/Bungee-Regular.ttf", None),
    ("train", "Kalam", "wheel", "fontpkg_kalam/Kalam-Bold.ttf", None),
    ("train", "Alumni Sans", "wheel", "fontpkg_alumni_sans/AlumniSans[wght].ttf", "Bold"),
    (
        "train",
        "DejaVu Sans Condensed",
        "deb",
        "fonts-dejavu-extra/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
        None,
    ),
    (
        "train",
        "Nimbus Sans Narrow",
        "deb",
        "fonts-urw-base35/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Bold.otf",
        None,
    ),
    (
        "train",
        "Open Sans Condensed",
        "deb",
        "fonts-open-sans/usr/share/fonts/truetype/open-sans/OpenSans-CondBold.ttf",
        None,
    ),
    (
        "train",
        "Roboto Condensed",
        "deb",
        "fonts-roboto-unhinted/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",
        None,
    ),
    (
        "train",
        "Liberation Sans",
        "deb",
        "fonts-liberation2/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
        None,
    ),
    ("train", "Arimo", "deb", "fonts-croscore/usr/share/fonts/truetype/croscore/Arimo-Bold.ttf", None),
    ("train", "Lato", "deb", "fonts-lato/usr/share/fonts/truetype/lato/Lato-Black.ttf", None),
    ("train", "Lato", "deb", "fonts-lato/usr/share/fonts/truetype/lato/Lato-Bold.ttf", None),
    ("train", "Comic Neue", "deb", "fonts-comic-neue/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf", None),
    # validation only: families never used in training
    ("val", "Fjalla One", "wheel", "fontpkg_fjalla_one/FjallaOne-Regular.ttf", None),
    ("val", "Bebas Neue", "deb", "fonts-bebas-neue/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf", None),
    ("val", "Bebas Neue", "deb", "fonts-bebas-neue/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf", None),
    ("val", "DejaVu Sans", "deb", "fonts-dejavu-core/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", None),
]
# Fonts for captions in the other writing systems (issue #25), into {train,val}/script_fonts/: kept apart from the
# Latin caption fonts above, so Latin captions (and the validation rows measured before) stay exactly as they were.
# Per script, the validation families are never used in training.
NOTO = "fonts-noto-core/usr/share/fonts/truetype/noto/"
CJK = "fonts-noto-cjk/usr/share/fonts/opentype/noto/"
CJK_EXTRA = "fonts-noto-cjk-extra/usr/share/fonts/opentype/noto/"
TLWG = "usr/share/fonts/truetype/tlwg/"
SCRIPT_FONTS: list[tuple[str, str, str, str, str | None]] = [
    # Latin, Cyrillic, Greek
    ("train", "Noto Sans", "deb", NOTO + "NotoSans-Bold.ttf", None),
    ("train", "Noto Serif", "deb", NOTO + "NotoSerif-Bold.ttf", None),
    ("val", "FreeSans", "deb", "fonts-freefont-ttf/usr/share/fonts/truetype/freefont/FreeSansBold.ttf", None),
    # Chinese, Japanese, Korean
    ("train", "Noto Sans CJK", "deb", CJK + "NotoSansCJK-Bold.ttc", None),
    ("train", "Noto Sans CJK", "deb", CJK + "NotoSansCJK-Regular.ttc", None),
    ("train", "Noto Sans CJK", "deb", CJK_EXTRA + "NotoSansCJK-Black.ttc", None),
    ("train", "Noto Serif CJK", "deb", CJK + "NotoSerifCJK-Bold.ttc", None),
    ("train", "WenQuanYi Zen Hei", "deb", "fonts-wqy-zenhei/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None),
    ("train", "AR PL UMing", "deb", "fonts-arphic-uming/usr/share/fonts/truetype/arphic/uming.ttc", None),
    ("train", "VL Gothic", "deb", "fonts-vlgothic/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf", None),
    ("train", "Un Dotum", "deb", "fonts-unfonts-core/usr/share/fonts/truetype/unfonts-core/UnDotumBold.ttf", None),
    ("train", "Un Graphic", "deb", "fonts-unfonts-core/usr/share/fonts/truetype/unfonts-core/UnGraphicBold.ttf", None),
    ("val", "WenQuanYi Micro Hei", "deb", "fonts-wqy-microhei/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None),
    ("val", "AR PL UKai", "deb", "fonts-arphic-ukai/usr/share/fonts/truetype/arphic/ukai.ttc", None),
    ("val", "IPAex Gothic", "deb", "fonts-ipaexfont-gothic/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", None),
    ("val", "Nanum Gothic", "deb", "fonts-nanum/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", None),
    ("val", "Nanum Square", "deb", "fonts-nanum/usr/share/fonts/truetype/nanum/NanumSquareB.ttf", None),
    # Arabic
    ("train", "Noto Sans Arabic", "deb", NOTO + "NotoSansArabic-Bold.ttf", None),
    ("train", "Noto Kufi Arabic", "deb", NOTO + "NotoKufiArabic-Bold.ttf", None),
    ("train", "Noto Naskh Arabic", "deb", NOTO + "NotoNaskhArabic-Bold.ttf", None),
    ("train", "Amiri", "deb", "fonts-hosny-amiri/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Bold.ttf", None),
    ("val", "KacstBook", "deb", "fonts-kacst/usr/share/fonts/truetype/kacst/KacstBook.ttf", None),
    ("val", "KacstTitle", "deb", "fonts-kacst/usr/share/fonts/truetype/kacst/KacstTitle.ttf", None),
    ("val", "KacstPoster", "deb", "fonts-kacst/usr/share/fonts/truetype/kacst/KacstPoster.ttf", None),
    # Hebrew
    ("train", "Noto Sans Hebrew", "deb", NOTO + "NotoSansHebrew-Bold.ttf", None),
    ("train", "Noto Serif Hebrew", "deb", NOTO + "NotoSerifHebrew-Bold.ttf", None),
    ("train", "David CLM", "deb", "culmus/usr/share/fonts/truetype/culmus/DavidCLM-Bold.otf", None),
    ("train", "Simple CLM", "deb", "culmus/usr/share/fonts/truetype/culmus/SimpleCLM-Bold.ttf", None),
    ("val", "Miriam CLM", "deb", "culmus/usr/share/fonts/truetype/culmus/MiriamCLM-Bold.ttf", None),
    ("val", "Nachlieli CLM", "deb", "culmus/usr/share/fonts/truetype/culmus/NachlieliCLM-Bold.otf", None),
    # Devanagari (Kalam, a Latin caption font above, draws Devanagari too)
    ("train", "Noto Sans Devanagari", "deb", NOTO + "NotoSansDevanagari-Bold.ttf", None),
    ("train", "Noto Serif Devanagari", "deb", NOTO + "NotoSerifDevanagari-Bold.ttf", None),
    ("train", "Kalimati", "deb", "fonts-deva-extra/usr/share/fonts/truetype/fonts-deva-extra/kalimati.ttf", None),
    (
        "val",
        "Lohit Devanagari",
        "deb",
        "fonts-lohit-deva/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",
        None,
    ),
    ("val", "Samanata", "deb", "fonts-deva-extra/usr/share/fonts/truetype/fonts-deva-extra/samanata.ttf", None),
    # Thai
    ("train", "Noto Sans Thai", "deb", NOTO + "NotoSansThai-Bold.ttf", None),
    ("train", "Noto Serif Thai", "deb", NOTO + "NotoSerifThai-Bold.ttf", None),
    ("train", "Garuda", "deb", "fonts-tlwg-garuda-ttf/" + TLWG + "Garuda-Bold.ttf", None),
    ("train", "Loma", "deb", "fonts-tlwg-loma-ttf/" + TLWG + "Loma-Bold.ttf", None),
    ("train", "Kinnari", "deb", "fonts-tlwg-kinnari-ttf/" + TLWG + "Kinnari-Bold.ttf", None),
    ("train", "Norasi", "deb", "fonts-tlwg-norasi-ttf/" + TLWG + "Norasi-Bold.ttf", None),
    ("train", "Purisa", "deb", "fonts-tlwg-purisa-ttf/" + TLWG + "Purisa-Bold.ttf", None),
    ("val", "Waree", "deb", "fonts-tlwg-waree-ttf/" + TLWG + "Waree-Bold.ttf", None),
    ("val", "Umpush", "deb", "fonts-tlwg-umpush-ttf/" + TLWG + "Umpush-Bold.ttf", None),
    ("val", "Sawasdee", "deb", "fonts-tlwg-sawasdee-ttf/" + TLWG + "Sawasdee-Bold.ttf", None),
]
FONT_PACKAGES = sorted({loc.split("/", 1)[0] for _, _, kind, loc, _ in FONTS + SCRIPT_FONTS if kind == "deb"})
CLIPART_PACKAGE = "openclipart-png"
# clip-art likely to carry lettering (a caption remover must not learn that text is part of the picture)
CLIPART_SKIP_CATEGORIES = {"logos", "special", "unsorted"}
CLIPART_SKIP_WORDS = (
    "sign",
    "label",
    "poster",
    "newspaper",
    "certificate",
    "text",
    "banner",
    "button",
    "logo",
    "calendar",
    "letter",
    "alphabet",
    "word",
    "note",
    "ticket",
    "card",
    "book",
    "diary",
    "map",
    "page",
    "paper",
    "document",
    "clock",
    "keyboard",
    "screen",
    "display",
    "monitor",
    "money",
    "coin",
    "stamp",
    "francobollo",
    "info",
    "license",
    "plate",
    "number",
    "menu",
    "bubble",
    "speech",
    "cartel",
    "tag",
    "ms_",
    "nude",
    "naked",
    "mermaid",
)
# picked by eye on a contact sheet: lettering the name filter misses
CLIPART_EXCLUDE: set[str] = {
    "decorations/diamante_illuminati_ingo",
    "electronics/pfd_01",
    "geography/municipios_tenerife_clem_01",
    "recreation/tamerlane_chess_jonadab",
    "shapes/stared_l",
    "signs_and_symbols/ex_yves_guillou_01",
    "tools/route_jakob_chaosinfa",
    "transportation/queues",
    "education/otto_01",
    "signs_and_symbols/ile_de_france_01",
    "transportation/buses_and_bikes",
    "education/slate-apple_benji_park_01",
    "education/simple_calculator_01",
}


# ------------------------------------------------------------------------------------------------ helpers
def log(message: str) -> None:
    print(message, flush=True)


def stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Through MemeClean's one write path (complete, fsynced, renamed; stale temporaries of killed runs removed)."""
    from memeclean_core.files.safe_write import write_file

    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, data, overwrite=True)


def atomic_copy(src: Path, dst: Path) -> None:
    atomic_write_bytes(dst, src.read_bytes())


def save_image_atomic(image: Image.Image, path: Path, **kwargs) -> None:
    """Encoded in memory (a short write is never published), re-decoded, then renamed into place."""
    from memeclean_core.files.imageio import decodes_fully
    from memeclean_core.files.safe_write import write_file

    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, lambda buffer: image.save(buffer, **kwargs), overwrite=True, verify=decodes_fully)


def find_deb(debs: Path, package: str) -> Path | None:
    matches = sorted(debs.glob(f"{package}_*.deb"))
    return matches[-1] if matches else None


def extract(debs: Path, cache: Path, package: str) -> Path | None:
    """`dpkg -x` one package into cache/<package> once; returns the folder or None if the .deb is missing."""
    deb = find_deb(debs, package)
    if deb is None:
        return None
    root = cache / package
    marker = root / ".extracted"
    if marker.exists() and marker.read_text() == deb.name:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    atomic_write_bytes(marker, deb.name.encode("utf-8"))
    return root


# ------------------------------------------------------------------------------- DEP-5 copyright licences
def parse_dep5(text: str) -> list[tuple[list[str], str]]:
    """(patterns, licence short name) per `Files:` stanza of a machine-readable copyright file."""
    stanzas: list[tuple[list[str], str]] = []
    for block in re.split(r"\n\s*\n", text):
        files: list[str] = []
        licence = ""
        current = None
        for line in block.splitlines():
            if re.match(r"^[A-Za-z-]+:", line):
                key, _, value = line.partition(":")
                current = key.strip().lower()
                if current == "files":
                    files.extend(value.split())
                elif current == "license":
                    licence = value.strip()
            elif line.startswith((" ", "\t")) and current == "files":
                files.extend(line.split())
        if files and licence:
            stanzas.append((files, licence))
    return stanzas


def licence_for(stanzas: list[tuple[list[str], str]], installed: str, default: str) -> str:
    """Last matching stanza wins (DEP-5); patterns are source paths, matched against the installed path's tail."""
    found = None
    parts = installed.split("/")
    for patterns, licence in stanzas:
        for pattern in patterns:
            if pattern.startswith("debian/"):
                continue
            depth = pattern.count("/") + 1
            tail = "/".join(parts[-depth:])
            if pattern == "*" or fnmatch.fnmatchcase(tail, pattern):
                found = licence
    return found or default


# ---------------------------------------------------------------------------------------------- wallpapers
@dataclass
class Wallpaper:
    package: str
    path: Path  # file on disk
    installed: str  # path inside the package
    design: str  # split unit
    variant: str  # one output per (design, variant)
    pixels: int = 0
    size: tuple[int, int] = (0, 0)
    licence: str = ""
    out_name: str = ""
    split: str = ""
    extra: dict = field(default_factory=dict)


SIZE_RE = re.compile(r"^(\d+)x(\d+)$")


def design_key(package: str, installed: str) -> tuple[str, str]:
    """(design, variant) of a wallpaper file: sizes collapse into one variant, variants into one design."""
    p = Path(installed)
    stem = p.stem
    if package == "plasma-workspace-wallpapers":
        name = p.parts[3]  # usr/share/wallpapers/NAME/contents/images*/WxH.ext
        folder = p.parts[5]
        return name, name + ("-dark" if folder.endswith("_dark") else "")
    if package == "mate-backgrounds":
        base = re.sub(r"_\d+x\d+$", "", stem)
        if base.startswith("MATE-Stripes-"):
            return "MATE-Stripes", base
        if base.startswith("Ubuntu-Mate-"):
            return "Ubuntu-Mate", base
        return base, base
    if package == "gnome-backgrounds":
        return re.sub(r"-[dl]$", "", stem), stem
    if package == "lxqt-themes":
        tokens = [
            t
            for t in re.split(r"[-_]", stem.lower())
            if t not in {"logo", "dark", "light", "bright", "green", "purple", "lxqt"}
        ]
        return "-".join(tokens) or stem, stem
    return stem, stem


def collect_wallpapers(cache: Path, debs: Path) -> tuple[list[Wallpaper], list[str]]:
    skipped: list[str] = []
    found: list[Wallpaper] = []
    for package, (globs, default_licence) in WALLPAPER_PACKAGES.items():
        root = extract(debs, cache, package)
        if root is None:
            skipped.append(f"{package}: .deb not found in {debs}")
            continue
        copyright_file = root / "usr/share/doc" / package / "copyright"
        stanzas = parse_dep5(copyright_file.read_text(errors="replace")) if copyright_file.exists() else []
        seen_real: set[Path] = set()
        for pattern in globs:
            for path in sorted(root.glob(pattern)):
                if not path.is_file():
                    continue
                installed = str(path.relative_to(root))
                if path.suffix.lower() == ".svg":
                    skipped.append(f"{package}/{installed}: SVG (no SVG renderer installed)")
                    continue
                if path.suffix.lower() not in IMAGE_EXTS:
                    continue
                real = path.resolve()
                if real in seen_real or real.stat().st_size == 0:
                    continue  # symlinked sizes of the same picture
                seen_real.add(real)
                design, variant = design_key(package, installed)
                licence = licence_for(stanzas, installed, default_licence) if stanzas else default_licence
                found.append(Wallpaper(package, real, installed, design, variant, licence=licence))
    return found, skipped


def probe(wall: Wallpaper) -> Wallpaper:
    with Image.open(wall.path) as im:
        im = ImageOps.exif_transpose(im) if im.format == "JPEG" else im
        wall.size = im.size
        wall.pixels = im.size[0] * im.size[1]
    return wall


def flatten_to_rgb(im: Image.Image, name: str = "") -> Image.Image:
    """Any mode -> RGB.

    Transparency is flattened onto the alpha-weighted mean colour of the picture (white if it is almost fully
    transparent). A wallpaper that is a one-colour overlay (white strokes on transparency) would come out blank
    that way; it is flattened onto a contrasting desktop colour from OVERLAY_BACKDROPS instead, chosen by name.
    """
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa"):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3:4] / 255.0
        weight = float(alpha.sum())
        if weight > 0.01 * alpha.size:
            mean = (rgba[..., :3] * alpha).reshape(-1, 3).sum(0) / weight
        else:
            mean = np.array([255.0, 255.0, 255.0])
        out = rgba[..., :3] * alpha + mean * (1.0 - alpha)
        if float(out.std(axis=(0, 1)).max()) < 12.0:
            far = [c for c in OVERLAY_BACKDROPS if float(np.abs(np.array(c) - mean).sum()) > 180]
            backdrop = np.array(
                (far or OVERLAY_BACKDROPS)[stable_hash(name) % len(far or OVERLAY_BACKDROPS)], dtype=np.float32
            )
            out = rgba[..., :3] * alpha + backdrop * (1.0 - alpha)
        return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float32)
        arr = arr / (256.0 if arr.max() > 255 else 1.0)
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).convert("RGB")
    return im.convert("RGB")


def resize_max_side(im: Image.Image, max_side: int) -> Image.Image:
    w, h = im.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return im
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def convert_one(job: tuple[str, str, int]) -> tuple[str, str | None, str]:
    """Worker: (src, dst, max_side) -> (dst, error or None, average hash)."""
    src, dst, max_side = job
    try:
        with Image.open(src) as im:
            if im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))
            im.load()
            im = ImageOps.exif_transpose(im)
            rgb = resize_max_side(flatten_to_rgb(im, Path(src).name), max_side)
        small = np.asarray(rgb.convert("L").resize((16, 16), Image.Resampling.BOX), dtype=np.float32)
        ahash = "".join("1" if v else "0" for v in (small > small.mean()).ravel())
        save_image_atomic(rgb, Path(dst), format="JPEG", quality=92, optimize=True)
        return dst, None, ahash
    except Exception as error:  # noqa: BLE001 - reported per file
        return dst, f"{type(error).__name__}: {error}", ""


def largest_per_variant(walls: list[Wallpaper], skipped: list[str]) -> list[Wallpaper]:
    """The largest size of each (package, variant); the smaller ones are noted in `skipped`."""
    best: dict[tuple[str, str], Wallpaper] = {}
    for wall in walls:
        key = (wall.package, wall.variant)
        if key not in best or wall.pixels > best[key].pixels:
            if key in best:
                skipped.append(f"{best[key].package}/{best[key].installed}: smaller size of {wall.variant}")
            best[key] = wall
        else:
            skipped.append(f"{wall.package}/{wall.installed}: smaller size of {wall.variant}")
    return list(best.values())


def usable_wallpapers(walls: list[Wallpaper], min_short: int, skipped: list[str]) -> list[Wallpaper]:
    """Those large enough and without text of their own, sorted; the others are noted in `skipped`."""
    chosen = []
    for wall in sorted(walls, key=lambda w: (w.package, w.design, w.variant)):
        stem_key = f"{wall.package}/{Path(wall.installed).stem}"
        if min(wall.size) < min_short:
            skipped.append(f"{wall.package}/{wall.installed}: short side {min(wall.size)} < {min_short}")
        elif stem_key in TEXT_WALLPAPERS:
            skipped.append(f"{wall.package}/{wall.installed}: {TEXT_WALLPAPERS[stem_key]}")
        else:
            chosen.append(wall)
    return chosen


def validation_designs(chosen: list[Wallpaper], val_fraction: float) -> set[tuple[str, str]]:
    """A deterministic split: per package, the designs with the smallest hashes go to val."""
    by_package: dict[str, list[str]] = {}
    for wall in chosen:
        by_package.setdefault(wall.package, [])
        if wall.design not in by_package[wall.package]:
            by_package[wall.package].append(wall.design)
    val_designs: set[tuple[str, str]] = set()
    for package, designs in by_package.items():
        ordered = sorted(designs, key=lambda d: stable_hash(f"{package}/{d}"))
        n_val = int(round(len(designs) * val_fraction))
        if n_val == 0 and len(designs) >= 4:
            n_val = 1
        val_designs.update((package, d) for d in ordered[:n_val])
    return val_designs


def build_images(args, out: Path, sources: list[dict], report: dict) -> None:
    walls, skipped = collect_wallpapers(args.cache, args.debs)
    for wall in walls:
        probe(wall)
    chosen = usable_wallpapers(largest_per_variant(walls, skipped), args.min_short, skipped)
    val_designs = validation_designs(chosen, args.val_fraction)
    jobs = []
    for wall in chosen:
        wall.split = "val" if (wall.package, wall.design) in val_designs else "train"
        wall.out_name = f"{SHORT_NAMES[wall.package]}__{safe_name(wall.variant)}.jpg"
        dst = out / wall.split / "images" / wall.out_name
        jobs.append((str(wall.path), str(dst), args.max_side))
    by_dst = {str(out / w.split / "images" / w.out_name): w for w in chosen}
    hashes: dict[str, str] = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for dst, error, ahash in pool.map(convert_one, jobs):
            wall = by_dst[dst]
            if error:
                skipped.append(f"{wall.package}/{wall.installed}: unreadable ({error})")
                continue
            if ahash in hashes and ahash.count("1") not in (0, 256):
                skipped.append(f"{wall.package}/{wall.installed}: duplicate of {hashes[ahash]}")
                Path(dst).unlink(missing_ok=True)
                continue
            hashes[ahash] = wall.out_name
            sources.append(
                {
                    "file": f"{wall.split}/images/{wall.out_name}",
                    "package": wall.package,
                    "original": wall.installed,
                    "licence": wall.licence,
                    "size": f"{wall.size[0]}x{wall.size[1]}",
                }
            )
    # remove stale outputs from earlier runs (e.g. after the exclusion list changed)
    wanted = {s["file"] for s in sources}
    for split in ("train", "val"):
        for path in (out / split / "images").glob("*.jpg"):
            if f"{split}/images/{path.name}" not in wanted:
                path.unlink()
    report["images_skipped"] = skipped
    for split in ("train", "val"):
        report[f"{split}_images"] = sum(1 for s in sources if s["file"].startswith(f"{split}/images/"))


# --------------------------------------------------------------------------------------------------- fonts
def font_draws(path: Path, variation: str | None) -> str | None:
    """None if the font loads and draws 'ABC' with ink; otherwise the reason."""
    try:
        font = ImageFont.truetype(str(path), 64)
        if variation:
            names = [n.decode() if isinstance(n, bytes) else n for n in font.get_variation_names()]
            if variation not in names:
                return f"no variation {variation!r} (has {names})"
            font.set_variation_by_name(variation)
        image = Image.new("L", (300, 120), 0)
        ImageDraw.Draw(image).text((10, 10), "ABC", font=font, fill=255, stroke_width=2, stroke_fill=128)
        ink = np.asarray(image) > 0
        if ink.mean() < 0.02:
            return "draws no ink"
        return None
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"


def deb_licence_text(root: Path, package: str) -> str:
    copyright_file = root / "usr/share/doc" / package / "copyright"
    text = copyright_file.read_text(errors="replace") if copyright_file.exists() else ""
    extra = []
    for name in sorted(set(re.findall(r"/usr/share/common-licenses/([A-Za-z0-9.+-]+)", text))):
        common = Path("/usr/share/common-licenses") / name.rstrip(".")
        if common.is_file():
            extra.append(f"\n\n===== {common} =====\n\n" + common.read_text(errors="replace"))
    return f"Debian package {package}: usr/share/doc/{package}/copyright\n\n" + text + "".join(extra)


def build_fonts(args, out: Path, sources: list[dict], report: dict) -> None:
    build_font_folder(args, out, sources, report, FONTS, "fonts")
    build_font_folder(args, out, sources, report, SCRIPT_FONTS, "script_fonts")


def build_font_folder(args, out: Path, sources: list[dict], report: dict, fonts: list, name: str) -> None:
    """`fonts` into OUT/{train,val}/`name`/, each with its licence, and `fonts.json` listing them."""
    problems: list[str] = []
    manifest: dict[str, list[dict]] = {"train": [], "val": []}
    for split in ("train", "val"):
        folder = out / split / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    for split, family, kind, location, variation in fonts:
        if kind == "wheel":
            pkg_dir, filename = location.split("/", 1)
            src = args.fontwheels / pkg_dir / "files" / filename
            licence_src = args.fontwheels / pkg_dir / "LICENSE"
            meta_file = args.fontwheels / pkg_dir / "metadata.json"
            meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
            licence_name = meta.get("license", "see LICENSE")
            licence_text = licence_src.read_text(errors="replace") if licence_src.exists() else ""
            origin = f"PyPI {pkg_dir.replace('_', '-')} {meta.get('version', '')}".strip()
            installed = f"files/{filename}"
        else:
            package, installed = location.split("/", 1)
            root = extract(args.debs, args.cache, package)
            if root is None:
                problems.append(f"{family} ({location}): .deb {package} not found")
                continue
            src = root / installed
            licence_text = deb_licence_text(root, package)
            licence_name = DEB_FONT_LICENCES.get(package, "see copyright")
            origin = f"Debian {find_deb(args.debs, package).stem}"
        if not src.is_file():
            problems.append(f"{family} ({location}): file missing")
            continue
        if not licence_text.strip():
            problems.append(f"{family} ({location}): no licence text found")
            continue
        reason = font_draws(src, variation)
        if reason:
            problems.append(f"{family} ({src.name}): {reason}")
            continue
        dst = out / split / name / src.name
        atomic_copy(src, dst)
        atomic_write_bytes(dst.with_name(dst.name + ".LICENSE.txt"), licence_text.encode("utf-8"))
        manifest[split].append(
            {"file": src.name, "family": family, "variation": variation, "source": origin, "licence": licence_name}
        )
        sources.append(
            {
                "file": f"{split}/{name}/{src.name}",
                "package": origin,
                "original": installed,
                "licence": licence_name,
                "size": "",
            }
        )
    for split in ("train", "val"):
        atomic_write_bytes(out / split / name / "fonts.json", (json.dumps(manifest[split], indent=1) + "\n").encode())
        report[f"{split}_{name}"] = len(manifest[split])
        report[f"{split}_{name}_families"] = sorted({m["family"] for m in manifest[split]})
    report[f"{name}_problems"] = problems


DEB_FONT_LICENCES = {
    "fonts-noto-core": "OFL-1.1",
    "fonts-noto-cjk": "OFL-1.1",
    "fonts-noto-cjk-extra": "OFL-1.1",
    "fonts-freefont-ttf": "GPL-3+ with font exception",
    "fonts-wqy-zenhei": "GPL-2 with font exception",
    "fonts-wqy-microhei": "Apache-2.0 or GPL-3 with font exception",
    "fonts-arphic-uming": "Arphic Public License",
    "fonts-arphic-ukai": "Arphic Public License",
    "fonts-vlgothic": "mplus and BSD-3 (VL Gothic)",
    "fonts-ipaexfont-gothic": "IPA Font License 1.0",
    "fonts-unfonts-core": "GPL-2",
    "fonts-nanum": "OFL-1.1",
    "fonts-hosny-amiri": "OFL-1.1",
    "fonts-kacst": "GPL-2",
    "culmus": "GPL-2 with font exception",
    "fonts-deva-extra": "GPL-2+ / GPL-3 with font exception",
    "fonts-lohit-deva": "OFL-1.1",
    "fonts-tlwg-garuda-ttf": "GPL-2 with font exception",
    "fonts-tlwg-loma-ttf": "GPL-2 with font exception",
    "fonts-tlwg-kinnari-ttf": "GPL-2 with font exception",
    "fonts-tlwg-norasi-ttf": "GPL-2 with font exception",
    "fonts-tlwg-purisa-ttf": "GPL-2 with font exception",
    "fonts-tlwg-waree-ttf": "GPL-2 with font exception",
    "fonts-tlwg-umpush-ttf": "GPL-2 with font exception",
    "fonts-tlwg-sawasdee-ttf": "GPL-2 with font exception",
    "fonts-dejavu-extra": "Bitstream Vera / public domain (DejaVu)",
    "fonts-dejavu-core": "Bitstream Vera / public domain (DejaVu)",
    "fonts-urw-base35": "AGPL-3 with font exception",
    "fonts-open-sans": "Apache-2.0",
    "fonts-roboto-unhinted": "Apache-2.0",
    "fonts-liberation2": "OFL-1.1",
    "fonts-croscore": "Apache-2.0",
    "fonts-lato": "OFL-1.1",
    "fonts-comic-neue": "OFL-1.1",
    "fonts-bebas-neue": "OFL-1.1",
}


# ------------------------------------------------------------------------------------------------- clipart
def clipart_ok(path: Path, min_short: int) -> tuple[bool, tuple[int, int]]:
    try:
        with Image.open(path) as im:
            size = im.size
            if min(size) < min_short:
                return False, size
            if im.mode not in ("RGBA", "LA") and not (im.mode == "P" and "transparency" in im.info):
                return False, size
            alpha = np.asarray(im.convert("RGBA"))[..., 3]
        opaque = float((alpha > 127).mean())
        return (0.08 < opaque < 0.92 and float((alpha == 0).mean()) > 0.05), size
    except Exception:  # noqa: BLE001
        return False, (0, 0)


def clipart_by_category(base: Path) -> dict[str, list[Path]]:
    """The clip-art files of each category, in hash order, without the skipped categories, words and files."""
    by_category: dict[str, list[Path]] = {}
    for path in sorted(p for p in base.rglob("*.png") if p.is_file()):
        category = path.relative_to(base).parts[0]
        lowered = path.name.lower()
        if (
            category in CLIPART_SKIP_CATEGORIES
            or any(w in lowered for w in CLIPART_SKIP_WORDS)
            or f"{category}/{safe_name(path.stem)}" in CLIPART_EXCLUDE
        ):
            continue
        by_category.setdefault(category, []).append(path)
    for paths in by_category.values():
        paths.sort(key=lambda p: stable_hash(str(p.relative_to(base))))
    return by_category


def pick_clipart(by_category: dict[str, list[Path]], want: int, min_short: int) -> list[tuple[Path, tuple[int, int]]]:
    """Round-robin over the categories in hash order, checking candidates lazily (only as many as needed): up to
    `want` distinct pictures that are large enough."""
    picked: list[tuple[Path, tuple[int, int]]] = []
    seen_hash: set[str] = set()
    cursors = {c: 0 for c in by_category}
    categories = sorted(by_category, key=stable_hash)
    while len(picked) < want and any(cursors[c] < len(by_category[c]) for c in categories):
        for category in categories:
            paths = by_category[category]
            while cursors[category] < len(paths):
                path = paths[cursors[category]]
                cursors[category] += 1
                if path.stat().st_size < 20_000:  # small files are tiny icons; skip without decoding
                    continue
                digest = hashlib.sha1(path.read_bytes()).hexdigest()
                if digest in seen_hash:
                    continue
                ok, size = clipart_ok(path, min_short)
                if ok:
                    seen_hash.add(digest)
                    picked.append((path, size))
                    break
            if len(picked) >= want:
                break
    return picked


def build_clipart(args, out: Path, sources: list[dict], report: dict) -> None:
    for split in ("train", "val"):
        folder = out / split / "clipart"
        if folder.exists():
            shutil.rmtree(folder)
    if args.clipart_train <= 0:
        return
    root = extract(args.debs, args.cache, CLIPART_PACKAGE)
    if root is None:
        report["clipart_note"] = f"{CLIPART_PACKAGE} .deb not found: no clip-art"
        return
    base = root / "usr/share/openclipart/png"
    picked = pick_clipart(clipart_by_category(base), args.clipart_train + args.clipart_val, args.clipart_min_short)
    # val: every k-th pick (spread over categories)
    step = max(1, len(picked) // max(1, args.clipart_val))
    val_idx = set(range(0, len(picked), step)[: args.clipart_val]) if args.clipart_val else set()
    for i, (path, size) in enumerate(picked):
        split = "val" if i in val_idx else "train"
        rel = path.relative_to(base)
        name = safe_name(f"{rel.parts[0]}__{path.stem}") + ".png"
        with Image.open(path) as im:
            rgba = resize_max_side(im.convert("RGBA"), args.max_side)
        save_image_atomic(rgba, out / split / "clipart" / name, format="PNG", optimize=False)
        sources.append(
            {
                "file": f"{split}/clipart/{name}",
                "package": CLIPART_PACKAGE,
                "original": str(path.relative_to(root)),
                "licence": "public domain (Open Clip Art Library)",
                "size": f"{size[0]}x{size[1]}",
            }
        )
    for split in ("train", "val"):
        report[f"{split}_clipart"] = sum(1 for s in sources if s["file"].startswith(f"{split}/clipart/"))


# ----------------------------------------------------------------------------------------------- reporting
def write_sources(out: Path, sources: list[dict], report: dict) -> None:
    lines = [
        "# Sources of the local MemeClean training data",
        "",
        "Built by `scripts/build_dataset.py` from Debian packages (bookworm) and PyPI `fontpkg-*` wheels.",
        "Licences per file come from each package's `usr/share/doc/<package>/copyright` (DEP-5 `Files:` stanzas",
        "where the file is machine-readable, otherwise the package licence listed in",
        "`shared/reference/training-data.md`). Each font's full licence text lies next to it as",
        "`<fontfile>.LICENSE.txt`.",
        "",
        "| file | source package | original path | licence | original size |",
        "|---|---|---|---|---|",
    ]
    for s in sorted(sources, key=lambda s: s["file"]):
        lines.append(f"| {s['file']} | {s['package']} | {s['original']} | {s['licence']} | {s['size']} |")
    lines += ["", "## Left out", ""]
    lines += [f"- {line}" for line in report.get("images_skipped", [])]
    lines += [f"- font: {line}" for line in report.get("fonts_problems", []) + report.get("script_fonts_problems", [])]
    atomic_write_bytes(out / "SOURCES.md", ("\n".join(lines) + "\n").encode("utf-8"))


def counts_text(report: dict) -> str:
    keys = ["train_images", "val_images", "train_fonts", "val_fonts", "train_script_fonts", "val_script_fonts"]
    keys += ["train_clipart", "val_clipart"]
    text = "\n".join(f"{k}={report.get(k, 0)}" for k in keys)
    text += "\nval_font_families=" + ", ".join(report.get("val_fonts_families", []))
    return text + "\n"


# ---------------------------------------------------------------------------------------------------- pack
PACK_QUALITY = 90  # JPEG quality of packed pictures
PICTURE_FOLDERS = ("images", "clipart")


def tar_member_bytes(size: int, name: str) -> int:
    """What one regular file costs in a tar: a 512-byte header (two more for a long name) and 512-byte blocks."""
    return 512 * (1 + (2 if len(name) > 99 else 0) + -(-size // 512))


def encode_picture(job: tuple[str, int | None]) -> bytes:
    """Worker: a picture re-encoded with its long side at most `side` (JPEG; clip-art stays RGBA PNG), or the
    file as it is for side None."""
    path, side = job
    if side is None:
        return Path(path).read_bytes()
    buffer = io.BytesIO()
    with Image.open(path) as im:
        if path.lower().endswith(".png"):
            resize_max_side(im.convert("RGBA"), side).save(buffer, format="PNG", optimize=True)
        else:
            resize_max_side(im.convert("RGB"), side).save(buffer, format="JPEG", quality=PACK_QUALITY, optimize=True)
    return buffer.getvalue()


def pack_dataset(root: Path, pack: Path, limit: int, workers: int) -> dict:
    """Write `root` (a built data folder) as one tar of at most `limit` bytes: fonts, licences and lists as they
    are, pictures as they are if they fit, else re-encoded with the largest long side (in steps of 128 px) that
    fits; returns what it did."""
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    pictures = [p for p in files if p.parent.name in PICTURE_FOLDERS and p.suffix.lower() in IMAGE_EXTS]
    picture_set = set(pictures)
    others = [p for p in files if p not in picture_set]
    if not pictures:
        raise SystemExit(f"no pictures under {root}/*/images: build the data first (see --out)")
    notes = "pack.json"
    fixed = 10240 + sum(tar_member_bytes(p.stat().st_size, str(p.relative_to(root))) for p in others)
    fixed += tar_member_bytes(1024, notes)
    if fixed >= limit:
        raise SystemExit(f"the fonts and lists alone take {fixed / 1e6:.1f} MB, over the pack limit")
    largest = 0
    for path in pictures:
        with Image.open(path) as im:
            largest = max(largest, *im.size)
    side: int | None = None  # first the files as they are
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while True:
            encoded = list(pool.map(encode_picture, [(str(p), side) for p in pictures]))
            total = fixed + sum(tar_member_bytes(len(b), str(p.relative_to(root))) for p, b in zip(pictures, encoded))
            log(f"pack: pictures {'as they are' if side is None else f'at long side {side}'}: {total / 1e6:.1f} MB")
            if total <= limit:
                break
            if side is None:
                side = -(-largest // 128) * 128
            # encoded bytes grow about with the pixel count, i.e. with the side squared
            wanted = side * ((limit - fixed) / (total - fixed)) ** 0.5
            new_side = min(side - 128, int(wanted // 128) * 128)
            if new_side < 256:
                raise SystemExit(f"the pictures do not fit in {limit / 1e6:.1f} MB even at a long side of 256")
            side = new_side
    info = {
        "picture_long_side": largest if side is None else side,
        "jpeg_quality": "as built" if side is None else PACK_QUALITY,
        "pictures": len(pictures),
        "files": len(files),
        "bytes_limit": limit,
    }

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = len(data), 0o644, 0  # reproducible: no dates, no owners
        tar.addfile(member, io.BytesIO(data))

    def write_tar(buffer: io.BytesIO) -> None:
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
            add(tar, notes, (json.dumps(info, indent=1) + "\n").encode())
            contents = {**{p: p.read_bytes() for p in others}, **dict(zip(pictures, encoded))}
            for path in sorted(contents):
                add(tar, str(path.relative_to(root)), contents[path])

    from memeclean_core.files.safe_write import write_file

    pack.parent.mkdir(parents=True, exist_ok=True)
    write_file(pack, write_tar, overwrite=True, mode=0o644)  # complete or not at all, like every other output
    info["bytes"] = pack.stat().st_size
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--debs", type=Path, default=Path("../rawdata/debs"))
    parser.add_argument("--fontwheels", type=Path, default=Path("../rawdata/fontwheels"))
    parser.add_argument(
        "--cache", type=Path, default=Path("../rawdata/per"), help="where each .deb is extracted into its own folder"
    )
    parser.add_argument("--out", type=Path, default=Path("../data"))
    parser.add_argument("--max-side", type=int, default=TRAIN_MAX_SIDE)
    parser.add_argument("--min-short", type=int, default=300)
    parser.add_argument("--val-fraction", type=float, default=0.12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clipart-train", type=int, default=150, help="0 skips clip-art")
    parser.add_argument("--clipart-val", type=int, default=20)
    parser.add_argument("--clipart-min-short", type=int, default=400)
    parser.add_argument("--skip", nargs="*", default=[], choices=["images", "fonts", "clipart"])
    parser.add_argument(
        "--pack",
        type=Path,
        metavar="TAR",
        help="build nothing: pack the data folder --out already holds into one tar for a machine "
        "with no network (pictures downsized to fit --pack-mb; unpack with tar -xf)",
    )
    parser.add_argument("--pack-mb", type=float, default=60.0, help="size limit of the pack in MB (default 60)")
    args = parser.parse_args(argv)
    out: Path = args.out
    if args.pack:
        info = pack_dataset(out, args.pack, int(args.pack_mb * 1e6), args.workers)
        log(
            f"wrote {args.pack}: {info['bytes'] / 1e6:.1f} MB, {info['files']} files, pictures at long side "
            f"{info['picture_long_side']} px"
        )
        return 0
    out.mkdir(parents=True, exist_ok=True)
    # each section's sources and report are kept in .build_state.json, so a run with --skip keeps the others
    state_file = out / ".build_state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    builders = {"images": build_images, "fonts": build_fonts, "clipart": build_clipart}
    for section, build in builders.items():
        if section in args.skip:
            continue
        section_sources: list[dict] = []
        section_report: dict = {}
        build(args, out, section_sources, section_report)
        state[section] = {"sources": section_sources, "report": section_report}
        atomic_write_bytes(state_file, json.dumps(state, indent=1).encode())
    sources = [s for section in builders for s in state.get(section, {}).get("sources", [])]
    report = {k: v for section in builders for k, v in state.get(section, {}).get("report", {}).items()}
    log(
        f"images: train {report.get('train_images', 0)}, val {report.get('val_images', 0)}, "
        f"left out {len(report.get('images_skipped', []))}"
    )
    log(
        f"fonts: train {report.get('train_fonts', 0)} ({len(report.get('train_fonts_families', []))} families), "
        f"val {report.get('val_fonts', 0)} ({', '.join(report.get('val_fonts_families', []))}); script fonts: "
        f"train {report.get('train_script_fonts', 0)}, val {report.get('val_script_fonts', 0)}"
    )
    for problem in report.get("fonts_problems", []) + report.get("script_fonts_problems", []):
        log(f"  font dropped: {problem}")
    log(
        f"clipart: train {report.get('train_clipart', 0)}, val {report.get('val_clipart', 0)} "
        f"{report.get('clipart_note', '')}"
    )
    write_sources(out, sources, report)
    atomic_write_bytes(out / "READY", counts_text(report).encode())
    log(counts_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
