"""Make the bundled fallback fonts (resources/fonts/fallback/): subsets of Noto Sans for the scripts a host may have
no font for, so captions in them are drawn, not boxes, wherever MemeClean runs (memeclean_core.captions.fonts).

    python3 -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
    apt-get download fonts-noto-core && dpkg-deb -x fonts-noto-core_*.deb noto-core   # and: apt install fonts-noto-cjk
    /tmp/ft/bin/python resources/fonts/make_fallback_fonts.py noto-core/usr/share/fonts/truetype/noto \\
        /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

Each subset keeps its script's blocks with every OpenType layout feature (Arabic joining, Indic and Thai shaping,
vertical forms of CJK punctuation) and the .notdef box; hinting is dropped (captions are large). Chinese, Japanese and
Korean keep the common characters only: GB 2312 level 1 (3,755 hanzi), JIS X 0208 level 1 (2,965 kanji), KS X 1001
(2,350 Hangul syllables), kana, CJK punctuation and full-width forms, drawn from the Japanese face of Noto Sans CJK.
Noto is under the SIL Open Font License 1.1 with no reserved font name (fallback/OFL.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parent / "fallback"
JOINERS = [0x20, 0xA0, 0x200C, 0x200D, 0x25CC]  # space, joiners, the dotted circle shaping engines insert

SCRIPTS = {  # output name -> (source file, code point ranges)
    "NotoSans-Regular-subset.ttf": ("NotoSans-Regular.ttf", [(0x20, 0x24F), (0x370, 0x3FF), (0x400, 0x52F)]),
    "NotoSansArabic-Regular-subset.ttf": (
        "NotoSansArabic-Regular.ttf",
        [(0x600, 0x6FF), (0x750, 0x77F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    ),
    "NotoSansHebrew-Regular-subset.ttf": ("NotoSansHebrew-Regular.ttf", [(0x590, 0x5FF), (0xFB1D, 0xFB4F)]),
    "NotoSansDevanagari-Regular-subset.ttf": (
        "NotoSansDevanagari-Regular.ttf",
        [(0x900, 0x97F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF)],
    ),
    "NotoSansThai-Regular-subset.ttf": ("NotoSansThai-Regular.ttf", [(0xE00, 0xE7F)]),
}
CJK_NAME = "NotoSansCJKjp-Regular-subset.otf"
CJK_BLOCKS = [(0x3000, 0x30FF), (0x3130, 0x318F), (0xFF00, 0xFFEF)]  # punctuation, kana, Hangul jamo, full width


def double_byte_table(codec: str, first: range, second: range) -> set[int]:
    """The characters a two-byte legacy code set encodes in the given lead and trail byte ranges."""
    found = set()
    for lead in first:
        for trail in second:
            try:
                found.update(ord(char) for char in bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return found


def common_cjk() -> set[int]:
    hanzi = double_byte_table("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))  # level 1
    kanji = double_byte_table("euc_jp", range(0xB0, 0xD0), range(0xA1, 0xFF))  # level 1
    hangul = double_byte_table("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF))
    blocks = {code for low, high in CJK_BLOCKS for code in range(low, high + 1)}
    return hanzi | kanji | hangul | blocks


def write_subset(font: TTFont, codes: set[int], out: Path) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codes | set(JOINERS)))
    subsetter.subset(font)
    font.save(out)
    print(f"{out.name}: {out.stat().st_size / 1024:.0f} KiB")


def main(noto_core: str, cjk_collection: str) -> None:
    OUT.mkdir(exist_ok=True)
    for name, (source, ranges) in SCRIPTS.items():
        codes = {code for low, high in ranges for code in range(low, high + 1)}
        write_subset(TTFont(Path(noto_core) / source), codes, OUT / name)
    write_subset(TTFont(cjk_collection, fontNumber=0), common_cjk(), OUT / CJK_NAME)


if __name__ == "__main__":
    main(*sys.argv[1:3])
