"""The clean: one picture (inference, pipeline, refine, structure_fill), a whole image (whole_image), caption bars
(bars), the request (options) and the self-test."""
