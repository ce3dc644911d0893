"""The caption model: text boxes placed relative to the image, and the document that holds them.

Everything here is plain data. Boxes are frozen, so a GUI edits one with `dataclasses.replace(box, text=...)` and
keeps the old value for undo. Positions and sizes are fractions of the image, so a caption survives a resize of
the template; the renderer turns them into pixels (`render.layout_box`).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ..errors import MemeCleanError

Align = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]

SCHEMA_FORMAT = "memeclean-captions"
SCHEMA_VERSION = 1
ALIGNS: tuple[str, ...] = ("left", "center", "right")
VALIGNS: tuple[str, ...] = ("top", "middle", "bottom")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")

# field -> (low, high, low excluded): what a project file or a --box may hold. Positions and sizes are fractions of
# the picture: a box may reach past the picture's edges, not be many pictures away or wide (which would only make
# the renderer allocate gigabytes). The app's handles keep boxes inside these too
# (`memeclean_gui.model.caption_editor`).
LIMITS: dict[str, tuple[float, float, bool]] = {
    "x": (-2.0, 3.0, False),
    "y": (-2.0, 3.0, False),
    "w": (0.0, 3.0, True),
    "h": (0.0, 3.0, True),
    "size": (0.0, 2.0, True),
    "outline_width": (0.0, 1.0, False),
    "rotation": (-360.0, 360.0, False),
    "line_spacing": (0.0, 10.0, True),
}
LIMIT_UNITS = {
    "x": "fraction of the picture's width",
    "y": "fraction of the picture's height",
    "w": "fraction of the picture's width",
    "h": "fraction of the picture's height",
    "size": "fraction of the picture's height",
    "outline_width": "fraction of the font size",
    "rotation": "degrees",
    "line_spacing": "times the normal distance",
}


class CaptionError(MemeCleanError, ValueError):
    """Caption data is invalid: a bad field in a box, a project file of the wrong shape, a bad --box."""


@dataclass(frozen=True)
class TextBox:
    """One caption text box. Geometry is relative to the image (0..1); the text is wrapped to the box."""

    x: float = 0.05  # left edge, fraction of image width
    y: float = 0.05  # top edge, fraction of image height
    w: float = 0.9  # width, fraction of image width (> 0)
    h: float = 0.2  # height, fraction of image height (> 0)
    text: str = ""  # may hold "\n" for explicit line breaks
    font: str = ""  # family name ("DejaVu Sans Bold") or font file path; "" = bundled Anton
    size: float | None = None  # font size as a fraction of image height (a maximum: shrinks to fit); None = auto-fit
    fill: str = "#FFFFFF"  # text colour, #RRGGBB
    outline: str = "#000000"  # outline colour, #RRGGBB
    outline_width: float = 0.08  # outline width relative to the font size (0 = none)
    align: Align = "center"  # horizontal alignment of the lines in the box
    uppercase: bool = True  # render the text upper-cased (the text itself is kept as typed)
    rotation: float = 0.0  # degrees, counter-clockwise, around the box centre
    valign: VAlign = "middle"  # vertical placement of the text block in the box
    line_spacing: float = 1.0  # multiplier of the renderer's default baseline-to-baseline distance
    vertical: bool = False  # vertical writing (Japanese, Chinese): columns top to bottom, right to left

    def __post_init__(self) -> None:
        for name in ("x", "y", "w", "h", "outline_width", "rotation", "line_spacing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise CaptionError(f"text box {name} must be a finite number, not {value!r}")
        if self.w <= 0 or self.h <= 0:
            raise CaptionError(f"text box width and height must be positive, not {self.w!r} x {self.h!r}")
        if self.size is not None and (
            isinstance(self.size, bool)
            or not isinstance(self.size, (int, float))
            or not math.isfinite(self.size)
            or self.size <= 0
        ):
            raise CaptionError(f"text box size must be a positive number or None, not {self.size!r}")
        if not isinstance(self.text, str) or not isinstance(self.font, str):
            raise CaptionError("text box text and font must be strings")
        for name in ("fill", "outline"):
            if not isinstance(getattr(self, name), str) or not _COLOR.fullmatch(getattr(self, name)):
                raise CaptionError(f"text box {name} must be a colour like #FFFFFF, not {getattr(self, name)!r}")
        if self.outline_width < 0:
            raise CaptionError(f"text box outline_width must not be negative, not {self.outline_width!r}")
        if self.line_spacing <= 0:
            raise CaptionError(f"text box line_spacing must be positive, not {self.line_spacing!r}")
        if self.align not in ALIGNS:
            raise CaptionError(f"text box align must be one of {', '.join(ALIGNS)}, not {self.align!r}")
        if self.valign not in VALIGNS:
            raise CaptionError(f"text box valign must be one of {', '.join(VALIGNS)}, not {self.valign!r}")
        for name in ("uppercase", "vertical"):
            if not isinstance(getattr(self, name), bool):
                raise CaptionError(f"text box {name} must be true or false, not {getattr(self, name)!r}")

    def check_limits(self) -> TextBox:
        """Raise CaptionError unless every number is in the range a picture can sensibly hold (see `LIMITS`):
        what comes from a file or a command line is checked here, so a huge box never reaches the renderer."""
        for name, (low, high, low_open) in LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if value > high or value < low or (low_open and value == low):
                opening = "(" if low_open else "["
                raise CaptionError(
                    f"text box {name} must be in {opening}{low:g}, {high:g}] ({LIMIT_UNITS[name]}), not {value!r}"
                )
        return self

    @property
    def display_text(self) -> str:
        """The text as it is drawn (upper-cased when `uppercase` is on)."""
        return self.text.upper() if self.uppercase else self.text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TextBox:
        """Build a box from `to_dict` output; missing fields take their defaults, unknown ones are ignored."""
        if not isinstance(data, dict):
            raise CaptionError(f"a text box must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        try:
            return cls(**values).check_limits()
        except TypeError as error:  # e.g. comparing a string with a number in validation
            raise CaptionError(f"invalid text box: {error}") from None


@dataclass
class CaptionDoc:
    """A captioned meme: the clean template it is drawn on and its text boxes, back to front."""

    template: Path
    boxes: list[TextBox] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.template = Path(self.template)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; the template path is written as given (project.py makes it relative)."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "template": self.template.as_posix(),
            "boxes": [box.to_dict() for box in self.boxes],
        }

    @classmethod
    def from_dict(cls, data: Any) -> CaptionDoc:
        """Inverse of `to_dict`; raises CaptionError on a document of the wrong shape or a newer version."""
        if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
            raise CaptionError("not a MemeClean caption project")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise CaptionError(f"caption project has an invalid version {version!r}")
        if version > SCHEMA_VERSION:
            raise CaptionError(
                f"caption project is format {version}, from a newer MemeClean (this one reads format {SCHEMA_VERSION})"
            )
        template = data.get("template")
        boxes = data.get("boxes", [])
        if not isinstance(template, str) or not template:
            raise CaptionError("caption project names no template image")
        if not isinstance(boxes, list):
            raise CaptionError("caption project boxes must be a list")
        return cls(template=Path(template), boxes=[TextBox.from_dict(item) for item in boxes])


def classic(top: str = "", bottom: str = "", *, size: float | None = 0.1) -> list[TextBox]:
    """The classic meme layout: an upper-case top caption hugging the top edge and a bottom one hugging the bottom.

    `size` is the largest font size (fraction of the image height); long text wraps and shrinks below it.
    Empty texts still get their box, so an editor shows both places to type.
    """
    common: dict[str, Any] = {"x": 0.04, "w": 0.92, "h": 0.3, "size": size}
    return [
        TextBox(y=0.02, text=top, valign="top", **common),
        TextBox(y=0.68, text=bottom, valign="bottom", **common),
    ]
