"""Regenerate MemeClean's application icon (run from the repository root).

    python3 resources/icons/make_icon.py

Drawn here from scratch so it is ours to ship: a picture whose top half still carries a meme caption in the bundled
Anton font (white with a black outline) and whose lower half is wiped clean. Writes memeclean.png (256 px, the
window icon), memeclean.ico (16–256 px, the Windows executable's icon) and the Linux desktop's icon theme sizes,
packaging/linux/share/icons/hicolor/<N>x<N>/apps/memeclean.png (installed by packaging/linux/install-desktop.sh).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONT = HERE.parent / "fonts" / "Anton-Regular.ttf"
SIZE = 1024  # drawn large, then downsampled for smooth edges
HICOLOR = HERE.parent.parent / "packaging" / "linux" / "share" / "icons" / "hicolor"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)  # the sizes desktops look up in the hicolor theme


def draw_icon() -> Image.Image:
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    sky = np.stack([70 + 60 * y, 130 + 70 * y, 210 - 20 * y], axis=-1)  # a blue sky over ...
    hill = (y > 0.62 + 0.08 * np.sin(x * 5.0))[..., None]  # ... a green hill
    picture = np.where(hill, np.array([70, 150, 80]) - 30 * y[..., None], sky).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(picture).convert("RGBA")
    draw = ImageDraw.Draw(image)
    draw.ellipse((700, 420, 860, 580), fill=(255, 214, 90))  # a sun
    font = ImageFont.truetype(str(FONT), 300)
    draw.text((SIZE // 2, 250), "MEME", font=font, anchor="mm", fill="white", stroke_width=22, stroke_fill="black")

    rounded = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(rounded).rounded_rectangle((24, 24, SIZE - 24, SIZE - 24), radius=190, fill=255)
    image.putalpha(rounded)
    return image


def main() -> None:
    icon = draw_icon()
    icon.resize((256, 256), Image.Resampling.LANCZOS).save(HERE / "memeclean.png", optimize=True)
    icon.resize((256, 256), Image.Resampling.LANCZOS).save(
        HERE / "memeclean.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
    )
    for size in HICOLOR_SIZES:
        path = HICOLOR / f"{size}x{size}" / "apps" / "memeclean.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        icon.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)
    print(f"wrote {HERE / 'memeclean.png'}, {HERE / 'memeclean.ico'} and {len(HICOLOR_SIZES)} sizes under {HICOLOR}")


if __name__ == "__main__":
    main()
