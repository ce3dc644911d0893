"""The modes that add features to the main window: caption mode (`caption`), the picture queue (`queue`), the
template library (`library`) and the Model menu (`model_menu`). Each sees the window only through the small
`window_view.WindowView` interface, declares its actions in a table and its menus in a layout, and starts its jobs
on a runner of its own from the window's `Workers`."""
