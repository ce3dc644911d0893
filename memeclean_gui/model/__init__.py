"""The app's state, free of Qt: the open picture and its edits, brush strokes, the caption editor, the picture
queue, settings and sizes. Plain Python objects that announce changes through `events.Signal`; views mirror
them and tests drive them without a window. Nothing here may import PySide6 (tests/test_layering.py)."""
