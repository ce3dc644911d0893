#!/usr/bin/env python3
"""Write the word lists of synthetic captions in every script, `memeclean_core/data/words/<script>.txt`, from
Faker's locale providers (PyPI `faker`, MIT licence; needed only to run this script).

Faker's lorem word lists are real words of each language for most scripts; Korean and Hindi have none, so their
lists take the locale's real place names, person names, job titles and company words instead. Only words written
in the script itself are kept (a Korean list holds Hangul, not digits or Latin letters).

    pip install faker && python3 scripts/make_word_lists.py
"""

from __future__ import annotations

import importlib
import sys
import unicodedata
from pathlib import Path

import faker

OUT = Path(__file__).resolve().parent.parent / "memeclean_core" / "data" / "words"

# script -> (Faker locales, Unicode character-name prefixes of the letters the words must be made of)
SOURCES = {
    "latin": (["en_US"], ("LATIN",)),
    "cyrillic": (["ru_RU", "uk_UA", "mk_MK"], ("CYRILLIC",)),
    "greek": (["el_GR"], ("GREEK",)),
    "chinese": (["zh_CN", "zh_TW"], ("CJK UNIFIED",)),
    "japanese": (["ja_JP"], ("CJK UNIFIED", "HIRAGANA", "KATAKANA")),
    "korean": (["ko_KR"], ("HANGUL",)),
    "arabic": (["ar_AA"], ("ARABIC",)),  # not fa_IR: Persian letters (پ چ ژ گ) that Arabic fonts may lack
    "hebrew": (["he_IL"], ("HEBREW",)),
    "devanagari": (["hi_IN"], ("DEVANAGARI",)),
    "thai": (["th_TH"], ("THAI",)),
}
PROVIDERS = ("lorem", "address", "person", "job", "company")
LIST_ATTRIBUTES = (
    "word_list",
    "cities",
    "countries",
    "states",
    "provinces",
    "metropolitan_cities",
    "boroughs",
    "road_names",
    "first_names",
    "last_names",
    "jobs",
    "company_suffixes",
)


def in_script(word: str, prefixes: tuple[str, ...]) -> bool:
    """Every letter of `word` belongs to the script (marks such as Devanagari vowel signs and the katakana
    prolonged sound mark count as the script's)."""
    for char in word:
        name = unicodedata.name(char, "")
        if not name.startswith(prefixes) and not name.startswith("KATAKANA-HIRAGANA"):
            return False
    return bool(word)


def words_of(locales: list[str], prefixes: tuple[str, ...]) -> list[str]:
    found: dict[str, None] = {}
    for locale in locales:
        for provider in PROVIDERS:
            try:
                module = importlib.import_module(f"faker.providers.{provider}.{locale}")
            except ImportError:
                continue
            for attribute in LIST_ATTRIBUTES:
                values = getattr(module.Provider, attribute, ())
                values = values.keys() if isinstance(values, dict) else values
                for value in values:
                    for word in str(value).split():
                        if in_script(word, prefixes):
                            found[word] = None
    return sorted(found)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for script, (locales, prefixes) in SOURCES.items():
        words = words_of(locales, prefixes)
        if len(words) < 100:
            print(f"{script}: only {len(words)} words", file=sys.stderr)
            return 1
        header = f"# {script}: {len(words)} words from Faker {faker.VERSION} ({', '.join(locales)}), MIT licence\n"
        (OUT / f"{script}.txt").write_text(header + "\n".join(words) + "\n", encoding="utf-8")
        print(f"{script}: {len(words)} words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
