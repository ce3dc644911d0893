"""Training memes drawn on the fly: `SynthSource` draws v1's captions or, with a mix (`synth.TRAINING_MIX`), the
formats of `formats` and `world_formats` and the drawings of `drawings` beside them. It sits above those modules, so
`synth`, which draws the captions they all use, imports none of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .backgrounds import BackgroundSource
from .font_pool import FontPool
from .synth import HARD_NEGATIVE_SHARE, caption_image, render_caption_layer, render_labels


class SynthSource:
    """Synthetic memes on the fly from a folder of clean pictures (plus procedural ones) and a set of fonts.

    `mix=None` draws v1's captions only (the validation set's "aggregate" rows); `mix=TRAINING_MIX` draws the formats
    and hard negatives training uses."""

    def __init__(self, backgrounds: BackgroundSource, fonts: FontPool, mix: dict[str, float] | None = None):
        self.backgrounds = backgrounds
        self.fonts = fonts
        self.mix = mix
        if mix is not None:
            self.kinds = list(mix)
            weights = np.array([mix[k] for k in self.kinds], np.float64)
            self.weights = weights / weights.sum()

    @classmethod
    def from_folder(cls, root: str | Path, mix: dict[str, float] | None = None) -> SynthSource:
        root = Path(root)
        return cls(BackgroundSource.from_folder(root), FontPool.from_folder(root), mix)

    def sample(self, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(meme, template, mask), H×W with the given long side (a caption bar adds rows)."""
        clean = self.backgrounds.sample(rng, long_side)
        if self.mix is None:
            meme, mask = caption_image(clean, self.fonts, rng)
            return meme, clean, mask
        from .formats import add_distractors, make_format_meme

        kind = self.kinds[rng.choice(len(self.kinds), p=self.weights)]
        clipart = self.backgrounds.clipart_pictures(rng, 2)
        if kind != "distractors" and rng.random() < HARD_NEGATIVE_SHARE:
            clean = add_distractors(clean, self.fonts, rng, clipart)
        if kind == "scripts":
            from .world_formats import random_script

            kind = f"script_{random_script(rng)}"
        elif kind == "texture_clean":
            from .drawings import fine_texture

            template = fine_texture(clean, rng, self.fonts)
            return template.copy(), template, np.zeros(template.shape[:2], bool)
        if kind in ("synth", "labels"):
            meme, mask = caption_image(
                clean, self.fonts, rng, render_caption_layer if kind == "synth" else render_labels
            )
            return meme, clean, mask
        made = make_format_meme(kind, clean, self.fonts, rng, clipart)
        return made.meme, made.template, made.mask
