"""Captions: text boxes on a clean template, drawn at full resolution, saved as editable projects. No Qt here.

- `model`: `TextBox`, `CaptionDoc`, `classic(top, bottom)`; plain frozen data with `to_dict`/`from_dict`.
- `fonts`: the bundled Anton default, installed fonts by name, fallbacks for glyphs a font lacks.
- `render`: `layout_box` (lines, font size, positions: what a GUI needs for handles) and `render_captions`.
- `project`: `<image stem>.memeclean.json` next to the template.
- `propose`: one box per caption block of a clean's mask, with the old words when an offline OCR is installed.
"""

from __future__ import annotations

from .boxes import CaptionDoc, CaptionError, TextBox, classic
from .fonts import FontNotFoundError, default_font_path, find_font, resolve_font, system_fonts
from .project import ProjectError, find_project, load_project, project_path_for, save_project
from .propose import TextSpan, default_text_reader, propose_boxes
from .render import BoxLayout, LineLayout, Overlay, Run, caption_mask, compose_overlay, layout_box, render_captions

__all__ = [
    "TextBox",
    "CaptionDoc",
    "CaptionError",
    "classic",
    "layout_box",
    "BoxLayout",
    "LineLayout",
    "Run",
    "render_captions",
    "compose_overlay",
    "Overlay",
    "caption_mask",
    "default_font_path",
    "find_font",
    "resolve_font",
    "system_fonts",
    "FontNotFoundError",
    "save_project",
    "load_project",
    "project_path_for",
    "find_project",
    "ProjectError",
    "propose_boxes",
    "default_text_reader",
    "TextSpan",
]
