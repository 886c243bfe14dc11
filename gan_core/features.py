"""Feature extractors for the quality metrics, and where the Inception-v3 weights come from.

An extractor turns uint8 images (N, H, W, 3) into pool features (N, D) for FID
and KID and class probabilities (N, C) for the Inception Score, in one forward
pass. Anything with ``name``, ``speed_key`` and ``extract`` will do, so tests
inject small networks; the real one is Keras's InceptionV3 with its top.

Images go to 299×299 with ``tf.image.resize(bilinear, antialias=True)``. For
the 32–128 px images SynthBin trains on this is plain bilinear upsampling; the
antialiasing matters only if a larger image is ever shrunk. Then
``keras.applications.inception_v3.preprocess_input`` (x / 127.5 - 1).

Weights resolve in this order: an explicit file (``--inception-weights``, the
Evaluate page, or ``SYNTHBIN_INCEPTION_WEIGHTS``); the Keras cache
(``$KERAS_HOME`` or ``~/.keras``, ``models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5``);
Keras's download into that cache when the download server answers within a few
seconds. Otherwise ``InceptionWeightsMissing`` says which file to put where.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

WEIGHTS_ENV = "SYNTHBIN_INCEPTION_WEIGHTS"
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/{WEIGHTS_FILE}"
WEIGHTS_MD5 = "9a0d58056eeedaa3f26cb7ebd46da564"  # the hash Keras checks the download against
WEIGHTS_MB = 92
INCEPTION_SIZE = 299
INCEPTION_SPEED_KEY = "keras-inception-v3"
PROBE_TIMEOUT_S = 3.0
DEFAULT_BATCH = 32

class FeatureExtractor(Protocol):
    name: str  # identifies the network and its weights in cache keys and reports
    speed_key: str  # identifies the network alone, for remembered images/s

    def extract(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, H, W, 3) -> (features (N, D) float32, probabilities (N, C) float32)."""
        ...


# -- the Keras extractor ----------------------------------------------------------

class KerasExtractor:
    """A Keras model with two outputs (features, probabilities), fed in fixed-size batches."""

    def __init__(self, model, name: str, *, input_size: int = INCEPTION_SIZE,
                 preprocess: Callable | None = None, batch_size: int = DEFAULT_BATCH, speed_key: str | None = None):
        import tensorflow as tf

        self.model, self.name, self.input_size, self.batch_size = model, name, input_size, batch_size
        self.speed_key = speed_key or name
        self._preprocess = preprocess or (lambda x: x / 127.5 - 1.0)
        self._forward = tf.function(self._forward_batch, reduce_retracing=True,
                                    input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)])

    def _forward_batch(self, images):
        import tensorflow as tf

        size = (self.input_size, self.input_size)
        resized = tf.image.resize(tf.cast(images, tf.float32), size, method="bilinear", antialias=True)
        features, probs = self.model(self._preprocess(resized), training=False)
        return features, probs

    def extract(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or not len(images):
            raise ValueError(f"Expected a non-empty uint8 batch (N, H, W, 3), got {images.dtype} {images.shape}.")
        outputs = [self._forward(images[start:start + self.batch_size])
                   for start in range(0, len(images), self.batch_size)]
        return (np.concatenate([np.asarray(f, np.float32) for f, _ in outputs]),
                np.concatenate([np.asarray(p, np.float32) for _, p in outputs]))


def two_output_model(model, feature_layer: str):
    """``model`` rewired to return (``feature_layer`` output, final output)."""
    import keras

    return keras.Model(model.inputs, [model.get_layer(feature_layer).output, model.outputs[0]])


# -- weights ----------------------------------------------------------------------

class InceptionWeightsError(Exception):
    """The Inception-v3 weights cannot be used; the message says what to do."""


class InceptionWeightsMissing(InceptionWeightsError):
    """No weights file here and no way to download one."""

    def __init__(self, reason: str, target: Path):
        self.reason, self.target, self.url = reason, target, WEIGHTS_URL
        super().__init__(
            f"{reason} Download '{WEIGHTS_FILE}' ({WEIGHTS_MB} MB) on a machine with internet access from "
            f"{WEIGHTS_URL} and copy it to {target} (the Keras cache), or give its path with "
            f"--inception-weights PATH, the weights field of the Evaluate page, or the {WEIGHTS_ENV} "
            "environment variable."
        )


def keras_cache_file() -> Path:
    """Where Keras keeps (and looks for) the downloaded InceptionV3 weights."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "models" / WEIGHTS_FILE


def _explicit_weights(path: str | Path | None) -> Path | None:
    chosen = path or os.environ.get(WEIGHTS_ENV)
    if not chosen:
        return None
    file = Path(chosen).expanduser()
    if not file.is_file():
        source = "" if path else f" (from {WEIGHTS_ENV})"
        raise InceptionWeightsMissing(f"There is no Inception-v3 weights file at {file}{source}.", keras_cache_file())
    return file


def local_weights(path: str | Path | None = None) -> Path | None:
    """The weights file that would be used without downloading, or None (raises if an explicit file is missing)."""
    explicit = _explicit_weights(path)
    if explicit is not None:
        return explicit
    cached = keras_cache_file()
    return cached if cached.is_file() else None


def reachable(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether ``host`` accepts a connection within ``timeout`` s (DNS included, which has no timeout of its own)."""
    answer: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="synthbin-net-probe")
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


def download_weights() -> Path:
    """Keras's own download into its cache (hash-checked); raises ``InceptionWeightsMissing`` when offline."""
    import keras

    target = keras_cache_file()
    if not reachable("storage.googleapis.com"):
        raise InceptionWeightsMissing(
            f"The Inception-v3 weights are not on this machine and the download server does not answer "
            f"within {PROBE_TIMEOUT_S:.0f} s (offline?).", target)
    try:
        return Path(keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_subdir="models",
                                         cache_dir=str(target.parent.parent), file_hash=WEIGHTS_MD5))
    except Exception as error:  # urllib/Keras raise plain Exception("URL fetch failure ...") when offline
        raise InceptionWeightsMissing(f"Downloading the Inception-v3 weights failed ({error}).", target) from error


def resolve_weights(path: str | Path | None = None) -> Path:
    """The weights file to use: explicit, else the Keras cache, else downloaded."""
    return local_weights(path) or download_weights()


_digests: dict[tuple[str, int, int], str] = {}


def _md5(file: Path) -> str:
    info = file.stat()
    key = (str(file.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.md5(usedforsecurity=False)
        with open(file, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def inception_name(weights: Path) -> str:
    """``keras-inception-v3:imagenet`` for Keras's weights, else tagged by the file's hash."""
    digest = _md5(weights)
    tag = "imagenet" if digest == WEIGHTS_MD5 else f"weights-{digest[:10]}"
    return f"{INCEPTION_SPEED_KEY}:{tag}"


# -- building the Inception extractor ------------------------------------------------

@dataclass
class _Loaded:
    key: tuple[str, int, int]
    extractor: KerasExtractor


_loaded: _Loaded | None = None
_load_lock = threading.Lock()


def _build_inception(weights: Path, batch_size: int) -> KerasExtractor:
    import keras

    network = keras.applications.InceptionV3(include_top=True, weights=None)
    try:
        network.load_weights(str(weights))
    except Exception as error:  # wrong file: h5py/Keras raise many different types
        raise InceptionWeightsError(
            f"{weights} is not a Keras InceptionV3 weights file with the classification top "
            f"({type(error).__name__}: {error}). Use '{WEIGHTS_FILE}' from {WEIGHTS_URL}."
        ) from error
    return inception_from_network(network, inception_name(weights), batch_size)


def inception_from_network(network, name: str, batch_size: int = DEFAULT_BATCH) -> KerasExtractor:
    """An extractor over a built ``keras.applications.InceptionV3`` (with top)."""
    import keras

    return KerasExtractor(two_output_model(network, "avg_pool"), name, batch_size=batch_size,
                          speed_key=INCEPTION_SPEED_KEY, preprocess=keras.applications.inception_v3.preprocess_input)


def inception_extractor(weights: str | Path | None = None, batch_size: int = DEFAULT_BATCH) -> KerasExtractor:
    """InceptionV3 (pool features + ImageNet probabilities) with resolved weights.

    The last one built is kept for the process, keyed by the weights file's
    path, size and modification time, so a second evaluation skips the few
    seconds of building and loading.
    """
    global _loaded
    file = resolve_weights(weights)
    info = file.stat()
    key = (str(file.resolve()), info.st_size, info.st_mtime_ns)
    with _load_lock:
        if _loaded is None or _loaded.key != key:
            _loaded = None  # free the old model before building the next
            _loaded = _Loaded(key, _build_inception(file, batch_size))
        _loaded.extractor.batch_size = batch_size
        return _loaded.extractor


def loaded_weights() -> Path | None:
    """The weights file of the extractor this process has loaded, if any."""
    current = _loaded
    return Path(current.key[0]) if current is not None else None


def measure_speed(extractor: FeatureExtractor, images: np.ndarray, warmup: int = 1) -> float:
    """Images per second of ``extractor.extract`` on ``images`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        extractor.extract(images)
    start = time.perf_counter()
    extractor.extract(images)
    return len(images) / max(time.perf_counter() - start, 1e-9)
