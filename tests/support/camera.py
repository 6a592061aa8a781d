"""A fake camera for headless Chromium: a Y4M (YUV4MPEG2, 4:2:0) clip Chromium plays as the webcam
(``--use-file-for-fake-video-capture``). Dev and test only."""

from __future__ import annotations

from pathlib import Path


def still_y4m(photo: bytes, path: Path, frames: int = 10, size: tuple[int, int] = (640, 480), fps: int = 10) -> Path:
    """The photo (cropped to ``size``'s aspect, scaled) as a clip of identical frames: a picture held to the camera."""
    import io

    import numpy as np
    from PIL import Image, ImageOps

    width, height = size
    image = ImageOps.fit(ImageOps.exif_transpose(Image.open(io.BytesIO(photo))).convert("RGB"), size,
                         Image.LANCZOS, centering=(0.5, 0.35))
    y, cb, cr = (np.asarray(plane, dtype=np.uint8) for plane in image.convert("YCbCr").split())
    u = np.asarray(Image.fromarray(cb).resize((width // 2, height // 2), Image.BILINEAR), dtype=np.uint8)
    v = np.asarray(Image.fromarray(cr).resize((width // 2, height // 2), Image.BILINEAR), dtype=np.uint8)
    frame = b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path
