"""Between numpy images and Qt: QImages to paint, the mask overlay, images in clipboard and drag-and-drop data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage, QPixmap

from memeclean_core.errors import ImageLoadError
from memeclean_core.files.imageio import LoadedImage

from ..model.document import BBox

# Overlay colour: a warm red at 55 % opacity, premultiplied ARGB32 (what QPainter blends fastest).
_OVERLAY_ALPHA = 140
_OVERLAY_RGB = (255, 48, 48)
OVERLAY_PIXEL = np.uint32(
    (_OVERLAY_ALPHA << 24)
    | ((_OVERLAY_RGB[0] * _OVERLAY_ALPHA // 255) << 16)
    | ((_OVERLAY_RGB[1] * _OVERLAY_ALPHA // 255) << 8)
    | (_OVERLAY_RGB[2] * _OVERLAY_ALPHA // 255)
)

# Encoded formats worth taking from drag-and-drop or clipboard data as they are (exact pixels, alpha,
# animations), before falling back to the platform's decoded QImage.
_ENCODED_TYPES = ("image/png", "image/webp", "image/gif", "image/jpeg", "image/bmp", "image/tiff")


def to_qimage(rgb: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """An H×W×3 uint8 array (and H×W alpha) as a QImage that owns its pixels, in the format Qt paints fastest."""
    height, width = rgb.shape[:2]
    if alpha is None:
        data = np.ascontiguousarray(rgb)
        image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        return image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.ascontiguousarray(np.dstack([rgb, alpha]))
    image = QImage(data.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def from_qimage(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """(H×W×3 uint8 RGB, H×W uint8 alpha or None when opaque) from any QImage."""
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height, stride = converted.width(), converted.height(), converted.bytesPerLine()
    rows = np.frombuffer(converted.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    rgba = rows[:, : 4 * width].reshape(height, width, 4)
    rgb = np.array(rgba[:, :, :3])
    alpha = np.array(rgba[:, :, 3]) if image.hasAlphaChannel() else None
    if alpha is not None and alpha.min() == 255:
        alpha = None
    return rgb, alpha


class MaskOverlay:
    """The text mask as a semi-transparent red QImage that shares its pixels with a numpy buffer, so a brush
    stroke updates only the pixels in its box."""

    def __init__(self, mask: np.ndarray):
        height, width = mask.shape
        self._buffer = np.zeros((height, width), np.uint32)
        self.image = QImage(self._buffer.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)
        self.update(mask)

    @property
    def shape(self) -> tuple[int, int]:
        return self._buffer.shape

    def update(self, mask: np.ndarray, bbox: BBox | None = None) -> None:
        """Copy `mask` (all of it, or the pixels in `bbox`) into the overlay."""
        if mask.shape != self._buffer.shape:
            raise ValueError(f"mask {mask.shape} does not match the overlay {self._buffer.shape}")
        if bbox is None:
            window = (slice(None), slice(None))
        else:
            top, left, bottom, right = bbox
            window = (slice(top, bottom), slice(left, right))
        self._buffer[window] = np.where(mask[window], OVERLAY_PIXEL, np.uint32(0))


@dataclass(frozen=True)
class ImageSource:
    """Where an image in clipboard or drop data is: a file, encoded bytes, or decoded pixels."""

    path: Path | None = None
    data: bytes | None = None
    image: LoadedImage | None = None
    name: str = "image"
    count: int = 1  # how many files were offered (only the first is opened)


def source_from_mime(mime: QMimeData | None, name: str = "Pasted image") -> ImageSource | None:
    """The image in clipboard or drag data: a local file URL, else encoded image bytes, else a decoded image.

    Returns None when there is nothing image-like. Raises ImageLoadError for web addresses, which would need a
    download (drag the picture itself, or save it first).
    """
    if mime is None:
        return None
    if mime.hasUrls():
        urls: list[QUrl] = list(mime.urls())
        local = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
        if local:
            return ImageSource(path=local[0], name=local[0].name, count=len(local))
    formats = set(mime.formats())
    for kind in _ENCODED_TYPES:
        if kind in formats:
            data = bytes(mime.data(kind).data())
            if data:
                return ImageSource(data=data, name=name)
    if mime.hasImage():
        qimage = mime.imageData()
        if isinstance(qimage, QPixmap):
            qimage = qimage.toImage()
        if isinstance(qimage, QImage) and not qimage.isNull():
            rgb, alpha = from_qimage(qimage)
            return ImageSource(image=LoadedImage.from_array(rgb, alpha), name=name)
    if mime.hasUrls():
        remote = [url for url in mime.urls() if not url.isLocalFile()]
        if remote:
            raise ImageLoadError(
                f"cannot open '{remote[0].toString()}': it is a web address; drag the picture itself, "
                "or save it and open the file"
            )
    return None


def can_accept(mime: QMimeData | None) -> bool:
    """Whether drag data looks like something `source_from_mime` can open (cheap: no decoding)."""
    if mime is None:
        return False
    if mime.hasImage() or any(kind in set(mime.formats()) for kind in _ENCODED_TYPES):
        return True
    return mime.hasUrls() and any(url.isLocalFile() or url.scheme() in ("http", "https") for url in mime.urls())
