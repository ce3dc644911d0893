"""What runs beside the UI thread, below every widget: the one job runner (`runner`: `Task`, `JobRunner`, the
`Workers` every runner of a window belongs to) and the native-library preload that the clean job calls before torch
loads (`preload`, Qt-free). Nothing here imports the rest of the app (tests/test_layering.py)."""
