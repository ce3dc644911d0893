"""Full-resolution caption edges: sharpen the upsampled caption probability against the full-size picture.

The network sees a picture shrunk to the working size; upsampled, its probability is blurred over
1/scale pixels, so the thresholded mask is either too wide (it replaces picture next to the letters) or leaves a
thin outline or an anti-aliased rim behind as a ghost. Caption ink and outline are near-uniform colours with sharp
edges, so the full-size picture itself says where a glyph ends. Two ways to use that:

- `guided_probability`: the guided filter of He, Sun and Tang ("Guided Image Filtering", ECCV 2010), with the
  full-size picture as the guide and the upsampled probability as the input: locally the output is a linear
  function of the guide, so its edges follow the picture's. Box filters only (`cv2.boxFilter`), on the luma
  ("guided") or on the three colour channels ("guided-colour", the paper's colour version: a 3×3 solve per pixel).
- `colour_probability`: a colour model per caption component. The confident pixels of a component give its one or
  two caption colours (fill and outline, k-means); the pixels around the component, outside the candidate zone,
  give the local background (a normalised box filter). Each pixel of the zone is explained as a blend
  `background + alpha · (caption colour − background)`; its alpha, where the blend explains the colour well, is
  the refined probability (the synthetic data marks a pixel as caption from about 10 % coverage).

Both work window by window (one horizontal band of caption at a time) so memory stays bounded on huge pictures,
and both return a float32 probability in [0, 1] at full size; pixels far from any caption keep the upsampled one.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .pipeline import caption_bands

CANDIDATE_PROBABILITY = 0.05  # below this upsampled probability a pixel is far from any caption
SURE_PROBABILITY = 0.9  # a component's caption colours come from pixels at least this sure
MIN_SURE_PIXELS = 24  # fewer sure pixels than this: keep the component's upsampled probability
COLOUR_RESIDUAL = 40.0  # RGB distance above which the blend does not explain a pixel (then: upsampled probability)
MIN_CONTRAST = 40.0  # a caption colour this close to the background cannot say where the glyph ends
COLOUR_SAMPLES = 20_000  # at most this many sure pixels (evenly spaced) give a component's caption colours


def _box(array: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(array, -1, (2 * radius + 1, 2 * radius + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def _windows(candidates: np.ndarray, margin: int):
    return caption_bands(candidates, margin)


def guided_filter_gray(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a one-channel guide (float32 arrays in [0, 1], the same H×W)."""
    mean_i, mean_p = _box(guide, radius), _box(source, radius)
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    cov_ip = _box(guide * source, radius) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius) * guide + _box(b, radius)


def guided_filter_colour(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a colour guide (H×W×3 float32 in [0, 1]): a 3×3 solve per pixel."""
    mean_i = _box(guide, radius)  # H×W×3
    mean_p = _box(source, radius)
    cov_ip = _box(guide * source[..., None], radius) - mean_i * mean_p[..., None]
    sigma = np.empty(guide.shape[:2] + (3, 3), np.float32)
    for r in range(3):
        for c in range(r, 3):
            value = _box(guide[..., r] * guide[..., c], radius) - mean_i[..., r] * mean_i[..., c]
            sigma[..., r, c] = sigma[..., c, r] = value
    sigma += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(sigma, cov_ip[..., None])[..., 0]  # H×W×3
    b = mean_p - (a * mean_i).sum(axis=2)
    return (_box(a, radius) * guide).sum(axis=2) + _box(b, radius)


def guided_probability(
    image: np.ndarray, probability: np.ndarray, scale: float, colour: bool = False, eps: float = 1e-3
) -> np.ndarray:
    """The upsampled `probability` (H×W float32 in [0, 1]) guided by `image` (H×W×3 uint8). The window radius is
    the upsampling's blur, about one working pixel."""
    radius = max(1, math.ceil(1.0 / scale))
    candidates = probability > CANDIDATE_PROBABILITY
    out = probability.copy()
    for rows, cols in _windows(candidates, margin=3 * radius):
        window = image[rows, cols].astype(np.float32) / 255.0
        source = probability[rows, cols]
        if colour:
            refined = guided_filter_colour(window, source, radius, eps)
        else:
            refined = guided_filter_gray(window @ np.array([0.299, 0.587, 0.114], np.float32), source, radius, eps)
        out[rows, cols] = np.clip(refined, 0.0, 1.0)
    return out


def _caption_colours(pixels: np.ndarray) -> np.ndarray:
    """One or two colours (k×3 float32) that the caption pixels are made of: fill and outline."""
    pixels = pixels.astype(np.float32)
    if len(pixels) < 2 * MIN_SURE_PIXELS:
        return np.median(pixels, axis=0)[None]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(pixels, 2, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=2)
    if np.linalg.norm(centres[0] - centres[1]) < MIN_CONTRAST or counts.min() < MIN_SURE_PIXELS:
        return np.median(pixels, axis=0)[None]
    return centres


def _blend(pixels: np.ndarray, local: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel (N×3 float32) as `local + alpha · (colour − local)` with the colour that explains it best: (alpha
    in [0, 1], the RGB distance left). A colour within MIN_CONTRAST of the background explains nothing."""
    offset = pixels - local
    offset2 = np.einsum("ij,ij->i", offset, offset)
    best_alpha = np.zeros(len(pixels), np.float32)
    best_residual = np.full(len(pixels), np.inf, np.float32)
    for colour in colours:
        direction = colour[None] - local
        length2 = np.einsum("ij,ij->i", direction, direction)
        along = np.einsum("ij,ij->i", offset, direction)
        alpha = np.clip(along / np.maximum(length2, 1e-6), 0.0, 1.0)
        # |offset − alpha·direction|², expanded so no N×3 temporary is made per colour
        residual = np.sqrt(np.maximum(offset2 - 2.0 * alpha * along + alpha * alpha * length2, 0.0))
        residual[length2 < MIN_CONTRAST**2] = np.inf
        better = residual < best_residual
        best_alpha[better], best_residual[better] = alpha[better], residual[better]
    return best_alpha, best_residual


def colour_margin(scale: float) -> int:
    """How far (full-size pixels) `colour_probability` looks around a candidate pixel: its default zone radius plus
    the background ring; beyond this from every candidate its output is its input."""
    zone_radius = max(1, math.ceil(2.0 / scale))
    return zone_radius + (2 * zone_radius + 2) + 1


def colour_probability(
    image: np.ndarray,
    probability: np.ndarray,
    scale: float,
    zone_radius: int | None = None,
    fill_threshold: float = 0.2,
) -> np.ndarray:
    """The upsampled `probability` replaced, near each caption component, by the caption's coverage estimated
    from colours (see the module docstring). `zone_radius` (full-size pixels, default ≈ 2 working pixels) is how
    far from the upsampled region a pixel may be taken as caption."""
    if zone_radius is None:
        zone_radius = max(1, math.ceil(2.0 / scale))
    background_radius = 2 * zone_radius + 2
    out = probability.copy()
    candidates = probability > fill_threshold
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * zone_radius + 1, 2 * zone_radius + 1))
    for rows, cols in _windows(candidates, margin=zone_radius + background_radius + 1):
        window = image[rows, cols].astype(np.float32)
        source = probability[rows, cols]
        zone = cv2.dilate(candidates[rows, cols].astype(np.uint8), kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(zone, connectivity=8)
        # The local background: the mean colour of the nearby pixels outside every candidate zone.
        outside = (zone == 0).astype(np.float32)
        weight = _box(outside, background_radius)
        background = _box(window * outside[..., None], background_radius) / np.maximum(weight, 1e-6)[..., None]
        has_background = weight > 0.02
        sure = (source > SURE_PROBABILITY) & (cv2.erode(zone, np.ones((3, 3), np.uint8)) > 0)
        refined = source.copy()
        for label in range(1, count):
            # Within the component's bounding box only: a band of caption holds hundreds of letters.
            left, top, width, height = stats[label, :4]
            box = slice(top, top + height), slice(left, left + width)
            component = labels[box] == label
            component_sure = sure[box] & component
            if component_sure.sum() < MIN_SURE_PIXELS:
                continue
            sure_at = np.flatnonzero(component_sure)
            if len(sure_at) > COLOUR_SAMPLES:  # a band of caption on a photo: a million sure pixels say no more
                sure_at = sure_at[:: -(-len(sure_at) // COLOUR_SAMPLES)]
            colours = _caption_colours(window[box].reshape(-1, 3)[sure_at])
            # The confident core stays caption; the rest of the component is explained by colour where it can be.
            core = component & (source[box] > SURE_PROBABILITY)
            edge = component & ~core
            alpha, residual = _blend(window[box][edge], background[box][edge], colours)
            explained = (residual < COLOUR_RESIDUAL) & has_background[box][edge]
            edge_values = source[box][edge]
            edge_values[explained] = alpha[explained]
            refined[box][edge] = edge_values
            refined[box][core] = 1.0
        out[rows, cols] = refined
    return out
