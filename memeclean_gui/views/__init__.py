"""Qt widgets, windows and dialogs: the canvas, the controls, the caption panel and overlay, the queue dock,
the template library window, the Train dialog and its loss curve. They show `memeclean_gui.model` objects and
write back through them; the window composition (main_window) and the modes wire them together."""
