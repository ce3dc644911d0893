"""The template library: the user's clean templates, found again in memes made from them (no Qt, no torch)."""

from .store import LibraryEntry, TemplateLibrary, TemplateMatch, library_dir, normalise_tags

__all__ = ["LibraryEntry", "TemplateLibrary", "TemplateMatch", "library_dir", "normalise_tags"]
