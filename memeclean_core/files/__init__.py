"""Reading and writing files: pictures (imageio), the one atomic write path (safe_write), regular files only
(file_kinds), suffixes and names (filenames)."""
