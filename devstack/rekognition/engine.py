"""The face engine behind the local Rekognition: dlib's detector, landmarks and ResNet embedding.

* Detection: dlib's HOG + linear SVM frontal face detector (``get_frontal_face_detector``),
  on the image scaled so its longer side is at most :data:`DETECT_SIDE` pixels (and once
  more upsampled when nothing is found in a small image). It finds faces down to about
  80 px (40 px after the upsampling) and within about 40 degrees of frontal.
* Landmarks: dlib's 68-point shape predictor (iBUG 300-W layout).
* Identity: dlib's ResNet ``dlib_face_recognition_resnet_model_v1`` -> a 128-d descriptor;
  two descriptors of one person lie within a Euclidean distance of 0.6 (dlib's own
  boundary, 99.38 % on LFW). :func:`similarity` maps the distance to Rekognition's 0-100.
* Estimates from the landmarks and pixels (not learned models; see docs/face-local.md):
  pose, eyes open, mouth open, sunglasses, brightness and sharpness.

The model files come from the ``face-recognition-models`` package; :func:`model_paths`
fails loudly, naming the file and the fix, when one is missing. Dev only.
"""

from __future__ import annotations

import collections
import hashlib
import io
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from . import analyses as kept_analyses
from .analyses import FIELDS, Analyses, image_key

DETECT_SIDE = 1280  # detection runs on at most this many pixels a side
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MIN_SIDE = 80  # Rekognition's minimum image height and width
SAME_PERSON_DISTANCE = 0.6  # dlib's boundary

# dlib's model files inside the face-recognition-models package (see docs/face-local.md for licences).
MODEL_FILES = {
    "landmarks": "shape_predictor_68_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}

# One engine call at a time: dlib is CPU-bound (2 cores here) and its objects are not
# documented as thread-safe. DEVSTACK_FACE_WORKERS raises it on a bigger machine.
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("DEVSTACK_FACE_WORKERS", "1")))


class ModelsMissing(RuntimeError):
    """The face engine cannot start: a package or model file is absent."""


class ImageRejected(Exception):
    """Bytes that are not an image Rekognition takes: ``code`` is its exception name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def model_paths() -> dict[str, Path]:
    """Where dlib's model files are; :class:`ModelsMissing` with the fix when they are not."""
    fix = ("install the dev requirements (./dev test or ./dev up does it: pip install -r "
           "requirements-dev.txt brings dlib-bin and face-recognition-models)")
    try:
        import dlib  # noqa: F401
    except ImportError as error:
        raise ModelsMissing(f"the local Rekognition needs dlib ({error}); {fix}") from None
    try:
        import face_recognition_models
    except ImportError:
        raise ModelsMissing(f"the local Rekognition's face models are missing (no package "
                            f"face_recognition_models); {fix}") from None
    # DEVSTACK_FACE_MODELS: another folder holding the same files (e.g. a shared cache)
    folder = Path(os.environ.get("DEVSTACK_FACE_MODELS") or Path(face_recognition_models.__file__).parent / "models")
    paths = {role: folder / name for role, name in MODEL_FILES.items()}
    for role, path in paths.items():
        if not path.is_file() or path.stat().st_size < 1_000_000:
            raise ModelsMissing(f"the local Rekognition's {role} model file is missing or "
                                f"truncated: {path}; {fix}")
    return paths


# --- images -------------------------------------------------------------------


def decode(data: bytes) -> Any:
    """JPEG/PNG bytes -> an RGB numpy array, EXIF orientation applied; Rekognition's errors otherwise."""
    import numpy as np
    from PIL import Image, ImageOps

    if not (data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"):
        raise ImageRejected("InvalidImageFormatException", "Request has invalid image format")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ImageRejected("ImageTooLargeException", "Image size is too large.")
            if width < MIN_SIDE or height < MIN_SIDE:
                raise ImageRejected("InvalidParameterException",
                                    f"Image dimensions must be at least {MIN_SIDE} pixels")
            probe.load()
            image = ImageOps.exif_transpose(probe).convert("RGB")
    except ImageRejected:
        raise
    except Exception:  # noqa: BLE001 - truncated, corrupt: Pillow raises many types
        raise ImageRejected("InvalidImageFormatException", "Request has invalid image format") from None
    return np.asarray(image)


# --- what the engine finds --------------------------------------------------------


@dataclass
class Face:
    """One face in one image. Coordinates are pixels of the (EXIF-corrected) image."""

    width: int  # of the image
    height: int
    rect: tuple[float, float, float, float]  # dlib's box: left, top, right, bottom
    score: float  # the detector's SVM score
    points: Any  # 68 x 2 landmarks
    descriptor: Any  # 128-d
    gray: Any = field(repr=False, default=None)  # the image in grey, for the pixel estimates

    # -- Rekognition's fields ------------------------------------------------------

    @property
    def confidence(self) -> float:
        """The detector's score as a percentage: score 0 (its threshold) -> 95, 1 -> 99.75."""
        return round(100.0 / (1.0 + math.exp(-(3.0 * self.score + 3.0))), 4)

    @property
    def bounding_box(self) -> dict[str, float]:
        """Rekognition's box (ratios of the image): dlib's is eyebrows to chin, AWS's takes in the
        forehead, so the top is raised by a quarter of the height; clipped to the image."""
        left, top, right, bottom = self.rect
        h = bottom - top
        top = max(0.0, top - 0.25 * h)
        left, right = max(0.0, left), min(float(self.width), right)
        bottom = min(float(self.height), bottom)
        return {"Width": round((right - left) / self.width, 6), "Height": round((bottom - top) / self.height, 6),
                "Left": round(left / self.width, 6), "Top": round(top / self.height, 6)}

    def landmarks(self) -> list[dict[str, Any]]:
        """Rekognition's 30 landmark types from the 68 points (left/right as the viewer sees them)."""
        p = self.points

        def mean(*indices: int) -> tuple[float, float]:
            return (float(p[list(indices), 0].mean()), float(p[list(indices), 1].mean()))

        named = {
            "eyeLeft": mean(36, 37, 38, 39, 40, 41), "eyeRight": mean(42, 43, 44, 45, 46, 47),
            "nose": mean(30), "mouthLeft": mean(48), "mouthRight": mean(54),
            "leftEyeBrowLeft": mean(17), "leftEyeBrowRight": mean(21), "leftEyeBrowUp": mean(19),
            "rightEyeBrowLeft": mean(22), "rightEyeBrowRight": mean(26), "rightEyeBrowUp": mean(24),
            "leftEyeLeft": mean(36), "leftEyeRight": mean(39), "leftEyeUp": mean(37, 38),
            "leftEyeDown": mean(40, 41), "rightEyeLeft": mean(42), "rightEyeRight": mean(45),
            "rightEyeUp": mean(43, 44), "rightEyeDown": mean(46, 47), "noseLeft": mean(31),
            "noseRight": mean(35), "mouthUp": mean(51), "mouthDown": mean(57),
            "leftPupil": mean(36, 37, 38, 39, 40, 41), "rightPupil": mean(42, 43, 44, 45, 46, 47),
            "upperJawlineLeft": mean(0), "midJawlineLeft": mean(4), "chinBottom": mean(8),
            "midJawlineRight": mean(12), "upperJawlineRight": mean(16),
        }
        return [{"Type": kind, "X": round(x / self.width, 6), "Y": round(y / self.height, 6)}
                for kind, (x, y) in named.items()]

    def pose(self) -> dict[str, float]:
        """Roll, yaw and pitch in degrees, estimated from the landmarks (about +-10 degrees).

        Roll: the angle of the line through the eye centres (+ clockwise in the image).
        Yaw: where the nose tip lies between the two sides of the face at eye level, on a
        cylinder model of the head: asin(2r - 1), r = 0.5 looking at the camera; + when the
        nose moves to the image's right, i.e. the person turns to their own left.
        Pitch: the nose tip's height between the eye line and the chin, against a frontal
        face's 0.29 (+ chin up).
        """
        eye_l, eye_r = self.points[36:42].mean(axis=0), self.points[42:48].mean(axis=0)
        roll = math.degrees(math.atan2(eye_r[1] - eye_l[1], eye_r[0] - eye_l[0]))
        upright = self._upright()
        left, right, nose = upright[0], upright[16], upright[30]
        span = right[0] - left[0]
        r = (nose[0] - left[0]) / span if span > 0 else 0.5
        yaw = math.degrees(math.asin(max(-1.0, min(1.0, 2.0 * r - 1.0))))
        eye_y = (upright[36:48, 1]).mean()
        chin_y = upright[8, 1]
        height = chin_y - eye_y
        ratio = (nose[1] - eye_y) / height if height > 0 else 0.29
        pitch = math.degrees(math.asin(max(-1.0, min(1.0, (0.29 - ratio) * 2.5))))
        return {"Roll": round(roll, 3), "Yaw": round(yaw, 3), "Pitch": round(pitch, 3)}

    def _upright(self) -> Any:
        """The landmarks rotated so the eye line is level."""
        import numpy as np

        eye_l, eye_r = self.points[36:42].mean(axis=0), self.points[42:48].mean(axis=0)
        angle = -math.atan2(eye_r[1] - eye_l[1], eye_r[0] - eye_l[0])
        c, s = math.cos(angle), math.sin(angle)
        centre = (eye_l + eye_r) / 2
        return (self.points - centre) @ np.array([[c, s], [-s, c]]) + centre

    def eye_aspect_ratio(self) -> float:
        """Soukupova & Cech's eye aspect ratio, both eyes averaged: about 0.3 open, under 0.1 closed."""
        def ear(eye: Any) -> float:
            import numpy as np

            vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
            horizontal = np.linalg.norm(eye[0] - eye[3])
            return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0

        return (ear(self.points[36:42]) + ear(self.points[42:48])) / 2.0

    def eyes_open(self) -> dict[str, Any]:
        value = self.eye_aspect_ratio()  # open about 0.25-0.4, closed under 0.1; 0.15 between
        return {"Value": value > 0.15, "Confidence": round(min(99.0, 50.0 + abs(value - 0.15) * 400.0), 3)}

    def mouth_open(self) -> dict[str, Any]:
        import numpy as np

        gap = np.linalg.norm(self.points[62] - self.points[66])
        width = np.linalg.norm(self.points[60] - self.points[64])
        ratio = float(gap / width) if width > 0 else 0.0
        return {"Value": ratio > 0.15, "Confidence": round(min(99.0, 50.0 + abs(ratio - 0.15) * 300.0), 3)}

    def sunglasses(self) -> dict[str, Any]:
        """Dark, flat patches over both eyes against the cheeks below them (a pixel heuristic:
        it catches dark lenses, not clear glasses or tinted ones)."""
        import numpy as np

        ratios, flat = [], []
        for eye in (self.points[36:42], self.points[42:48]):
            eye_patch = self._patch(eye.mean(axis=0), np.ptp(eye[:, 0]) * 0.6)
            cheek_centre = eye.mean(axis=0) + np.array([0.0, np.ptp(eye[:, 0]) * 1.3])
            cheek_patch = self._patch(cheek_centre, np.ptp(eye[:, 0]) * 0.4)
            if eye_patch.size == 0 or cheek_patch.size == 0:
                return {"Value": False, "Confidence": 50.0}
            ratios.append(eye_patch.mean() / max(cheek_patch.mean(), 1.0))
            flat.append(eye_patch.std())
        ratio, texture = float(np.mean(ratios)), float(np.mean(flat))
        value = ratio < 0.45 and texture < 25.0
        return {"Value": value, "Confidence": round(min(99.0, 50.0 + abs(ratio - 0.45) * 150.0), 3)}

    def _patch(self, centre: Any, half: float) -> Any:
        x, y = int(centre[0]), int(centre[1])
        h = max(2, int(half))
        return self.gray[max(0, y - h): y + h, max(0, x - h): x + h].astype("float64")

    def quality(self) -> dict[str, float]:
        """Brightness: mean grey level of the face, 0-100. Sharpness: the variance of the
        Laplacian of the face scaled to 128 px, mapped to 0-100 (100 (1 - e^(-var/150)))."""
        import numpy as np
        from PIL import Image

        left, top, right, bottom = (int(v) for v in self.rect)
        crop = self.gray[max(0, top): max(top + 1, bottom), max(0, left): max(left + 1, right)]
        if crop.size == 0:
            return {"Brightness": 0.0, "Sharpness": 0.0}
        brightness = float(crop.mean()) / 255.0 * 100.0
        small = np.asarray(Image.fromarray(crop).resize((128, 128), Image.BILINEAR), dtype=np.float64)
        laplacian = (small[1:-1, :-2] + small[1:-1, 2:] + small[:-2, 1:-1] + small[2:, 1:-1]
                     - 4 * small[1:-1, 1:-1])
        sharpness = 100.0 * (1.0 - math.exp(-float(laplacian.var()) / 150.0))
        return {"Brightness": round(brightness, 4), "Sharpness": round(sharpness, 4)}

    def detail(self, attributes: str = "DEFAULT") -> dict[str, Any]:
        """A Rekognition FaceDetail. DEFAULT: box, confidence, pose, quality, landmarks; ALL adds
        what this engine can estimate (EyesOpen, MouthOpen, Sunglasses) and no more: no age,
        gender, emotions, beard, smile -- absent rather than invented."""
        detail: dict[str, Any] = {"BoundingBox": self.bounding_box, "Landmarks": self.landmarks(),
                                  "Pose": self.pose(), "Quality": self.quality(),
                                  "Confidence": self.confidence}
        if attributes == "ALL":
            detail.update(EyesOpen=self.eyes_open(), MouthOpen=self.mouth_open(), Sunglasses=self.sunglasses())
        return detail


def distance(a: Any, b: Any) -> float:
    import numpy as np

    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


# Calibration: a logistic curve through dlib's same-person boundary and AWS's default
# threshold (distance 0.6 -> similarity 80, the default SimilarityThreshold and
# FaceMatchThreshold), and a typical genuine pair (0.5 -> 95). So 0.4 -> 98.9, 0.7 -> 45,
# 0.8 -> 15: see docs/face-local.md.
_MIDPOINT = 0.6 + 0.0642 * math.log(4.0)  # distance at similarity 50 (0.689)
_SCALE = 0.1 / math.log(19.0 / 4.0)  # 0.0642


def similarity(a: Any, b: Any) -> float:
    """Rekognition's Similarity (0-100) for two descriptors."""
    z = (distance(a, b) - _MIDPOINT) / _SCALE
    return round(100.0 / (1.0 + math.exp(max(-700.0, min(700.0, z)))), 5)


def distance_for(similarity_percent: float) -> float:
    """The distance at which :func:`similarity` gives this percentage (for docs and the bench)."""
    p = min(max(similarity_percent, 1e-9), 100 - 1e-9) / 100.0
    return _MIDPOINT + _SCALE * math.log(1.0 / p - 1.0)


class Engine:
    """dlib's models, loaded once at the first image to analyse (about 2-6 s on 2 cores), then ~0.3-1 s an
    image. With :attr:`analyses` installed (:func:`install_analyses`: the local stack and the dev tools), an
    image analysed before by any process of this checkout is loaded from its file instead, and a process
    that only meets such images never loads the models."""

    _instance: Optional[Engine] = None
    _instance_lock = threading.Lock()
    #: the checkout's kept analyses (:mod:`.analyses`); None: every image is analysed
    analyses: Optional[Analyses] = None

    def __init__(self) -> None:
        self._models: Optional[tuple[Any, Any, Any]] = None
        self._models_lock = threading.Lock()
        self._cache: collections.OrderedDict[bytes, list[Face]] = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    def load(self) -> tuple[Any, Any, Any]:
        """dlib's detector, landmark predictor and descriptor network (loaded once)."""
        with self._models_lock:
            if self._models is None:
                import dlib

                paths = model_paths()
                self._models = (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(paths["landmarks"])),
                                dlib.face_recognition_model_v1(str(paths["descriptor"])))
            return self._models

    @classmethod
    def shared(cls) -> Engine:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def faces_of(self, data: bytes) -> list[Face]:
        """:meth:`faces` of encoded image bytes, remembered by their digest: the FACE check looks at
        the same reference image three or four times (DetectFaces, CompareFaces, search, index)."""
        digest = hashlib.sha256(data).digest()
        with self._cache_lock:
            if digest in self._cache:
                self._cache.move_to_end(digest)
                return list(self._cache[digest])
        faces = self.faces(decode(data))
        with self._cache_lock:
            self._cache[digest] = faces
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return list(faces)

    def faces(self, image: Any, max_faces: int = 100) -> list[Face]:
        """Every face found, largest first, each with landmarks and descriptor."""
        import numpy as np
        from PIL import Image

        kept = self.analyses
        if kept is None:
            return self._analyse(image, max_faces)
        key = image_key(image, max_faces)
        found = kept.load(key)
        if found is None:
            with kept.lock(key):
                found = kept.load(key)  # another process analysed it while this one waited
                if found is None:
                    faces = self._analyse(image, max_faces)
                    kept.store(key, [{name: getattr(face, name) for name in FIELDS} for face in faces])
                    return faces
        gray = np.asarray(Image.fromarray(image).convert("L")) if found else None
        return [Face(**fields, gray=gray) for fields in found]

    def _analyse(self, image: Any, max_faces: int) -> list[Face]:
        import dlib
        import numpy as np
        from PIL import Image

        detector, predictor, encoder = self.load()
        height, width = image.shape[:2]
        scale = min(1.0, DETECT_SIDE / max(width, height))
        small = image if scale == 1.0 else np.asarray(
            Image.fromarray(image).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                          Image.BILINEAR))
        with _SLOTS:
            rects, scores, _ = detector.run(small, 0, 0.0)
            if not len(rects) and max(small.shape[:2]) <= 800:  # a small image: look for smaller faces
                rects, scores, _ = detector.run(small, 1, 0.0)
            found = sorted(zip(rects, scores, strict=True), key=lambda pair: -pair[0].area())[:max_faces]
            gray = np.asarray(Image.fromarray(image).convert("L"))
            faces = []
            for rect, score in found:
                full = dlib.rectangle(int(rect.left() / scale), int(rect.top() / scale),
                                      int(rect.right() / scale), int(rect.bottom() / scale))
                shape = predictor(image, full)
                points = np.array([[part.x, part.y] for part in shape.parts()], dtype=np.float64)
                descriptor = np.array(encoder.compute_face_descriptor(image, shape, 0))
                faces.append(Face(width, height, (full.left(), full.top(), full.right(), full.bottom()),
                                  float(score), points, descriptor, gray))
        return faces


def install_analyses(cache_dir: Optional[Path] = None) -> bool:
    """Make the engines of this process keep and reuse their analyses in the checkout's cache
    (:mod:`.analyses`; once; True when installed now). Off with ``DEVSTACK_FACE_CACHE=off``."""
    if not kept_analyses.enabled() or Engine.analyses is not None:
        return False
    try:
        models = model_paths()
    except ModelsMissing:  # the engine says so itself, loudly, at its first call
        return False
    Engine.analyses = kept_analyses.open_folder(models, cache_dir)
    return True
