"""Generator and discriminator builders (Keras 3 functional models).

Two architectures, chosen by ``config.arch``:

* ``paper``: the reference project's networks, layer for layer (128 px).
* ``dcgan``: a standard DCGAN (Radford et al.) at 32, 64 or 128 px, sized so a
  64 px run trains at a useful speed on a 2-core CPU.

Every generator ends in a float32 ``tanh`` layer, so images lie in [-1, 1] and
stay float32 under a mixed-precision policy. Every discriminator returns float32
**logits** of shape ``(batch, 1)``; the trainer applies binary cross-entropy from
logits, which equals the reference's sigmoid + BCE but is numerically stable.

Conditional models (``is_conditional``) take a second input ``label``: an int32
tensor of shape ``(batch,)``.

* Generators (both archs) multiply ``z`` element-wise by a learned label
  embedding of size ``latent_dim`` before the first dense layer.
* The dcgan discriminator is a projection discriminator (Miyato & Koyama 2018):
  ``logits = dense(h) + <embed(label), h>`` with ``h`` the flattened features.
* The paper discriminator gets the label as one-hot image channels concatenated
  to its input: a projection on its ~984k-wide flattened features would add
  ~984k weights per class.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers

from gan_core.config import TrainConfig

CHANNELS = 3

# Base width (channels at 4x4) of the dcgan networks per image size. G halves
# the channels at each upsampling, D mirrors it. Picked for speed on a 2-core
# CPU: width 256 at 32 px trained 3.4x slower per image and learned the demo
# no faster per minute (bench/demo_quality.py, docs/BENCHMARKS.md).
DCGAN_WIDTHS = {32: 128, 64: 128, 128: 256}

# The reference used Keras 2's LeakyReLU(), whose default slope is 0.3. Pass it
# explicitly so it never depends on the installed Keras' default.
PAPER_LEAKY_SLOPE = 0.3
DCGAN_LEAKY_SLOPE = 0.2


def is_conditional(config: TrainConfig, num_classes: int) -> bool:
    """True when the models take a label: asked for, and there is a choice of class."""
    return bool(config.conditional) and num_classes > 1


def build_generator(config: TrainConfig, num_classes: int = 0) -> keras.Model:
    """The generator for ``config``: ``z`` (or ``[z, label]``) -> image in [-1, 1]."""
    builder = _paper_generator if config.arch == "paper" else _dcgan_generator
    return builder(config, num_classes if is_conditional(config, num_classes) else 0)


def build_discriminator(config: TrainConfig, num_classes: int = 0) -> keras.Model:
    """The discriminator for ``config``: image (or ``[image, label]``) -> logits (batch, 1)."""
    builder = _paper_discriminator if config.arch == "paper" else _dcgan_discriminator
    return builder(config, num_classes if is_conditional(config, num_classes) else 0)


def dcgan_width(config: TrainConfig) -> int:
    """Channels at the 4x4 stage of the dcgan networks.

    ``config.extra["width"]`` overrides the per-size default.
    """
    width = config.extra.get("width", DCGAN_WIDTHS.get(config.image_size, 128))
    doublings = _doublings(config.image_size)
    if not isinstance(width, int) or width < 2 ** (doublings - 1):
        raise ValueError(f"dcgan width must be an int of at least {2 ** (doublings - 1)}, not {width!r}.")
    return width


# --- shared pieces ---------------------------------------------------------------------------------


def _doublings(image_size: int) -> int:
    """How many 2x resamplings lie between 4x4 and ``image_size``."""
    steps = math.log2(image_size / 4) if image_size >= 8 else 0.0
    if steps < 1 or not steps.is_integer():
        raise ValueError(f"dcgan image_size must be a power of two of at least 8, not {image_size}.")
    return int(steps)


def _dcgan_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _label_input() -> keras.KerasTensor:
    return keras.Input(shape=(), dtype="int32", name="label")


def _label_embedding(
    label: keras.KerasTensor, num_classes: int, dim: int, name: str, **kwargs: Any
) -> keras.KerasTensor:
    """A learned ``dim``-vector per class, shape (batch, dim)."""
    return layers.Embedding(num_classes, dim, name=name, **kwargs)(label)


def _generator_inputs(
    config: TrainConfig, num_classes: int
) -> tuple[keras.KerasTensor | list[keras.KerasTensor], keras.KerasTensor]:
    """The generator's inputs and the (label-conditioned) latent fed to its first layer."""
    z = keras.Input(shape=(config.latent_dim,), name="z")
    if not num_classes:
        return z, z
    label = _label_input()
    # Unit-variance init keeps z * embedding at z's scale and makes classes
    # differ from the first step on.
    embedding = _label_embedding(
        label,
        num_classes,
        config.latent_dim,
        "label_embedding",
        embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
    )
    return [z, label], layers.Multiply(name="z_times_label")([z, embedding])


def _image_input(config: TrainConfig) -> keras.KerasTensor:
    return keras.Input(shape=(config.image_size, config.image_size, CHANNELS), name="image")


def _to_image(x: keras.KerasTensor) -> keras.KerasTensor:
    return layers.Activation("tanh", dtype="float32", name="tanh")(x)


# --- paper -----------------------------------------------------------------------------------------


def _paper_leaky(x: keras.KerasTensor) -> keras.KerasTensor:
    return layers.LeakyReLU(negative_slope=PAPER_LEAKY_SLOPE)(x)


def _paper_generator(config: TrainConfig, num_classes: int) -> keras.Model:
    """The reference generator: 16x16 seed map, three 2x transposed convs, two wide convs."""
    if config.image_size % 8:
        raise ValueError(f"the paper generator needs an image size divisible by 8, not {config.image_size}.")
    start = config.image_size // 8
    inputs, x = _generator_inputs(config, num_classes)
    x = _paper_leaky(layers.Dense(128 * start * start)(x))
    x = layers.Reshape((start, start, 128))(x)
    x = _paper_leaky(layers.Conv2D(256, 5, padding="same")(x))
    for _ in range(3):
        x = _paper_leaky(layers.Conv2DTranspose(256, 4, strides=2, padding="same")(x))
    for _ in range(2):
        x = _paper_leaky(layers.Conv2D(512, 5, padding="same")(x))
    # The reference's Conv2D(3, 7, activation="tanh"), with the tanh split off
    # into a float32 layer for mixed precision.
    x = layers.Conv2D(CHANNELS, 7, padding="same")(x)
    return keras.Model(inputs, _to_image(x), name="generator")


def _paper_discriminator(config: TrainConfig, num_classes: int) -> keras.Model:
    """The reference discriminator, returning logits instead of a sigmoid."""
    image = _image_input(config)
    x = image
    inputs: keras.KerasTensor | list[keras.KerasTensor] = image
    if num_classes:
        label = _label_input()
        inputs = [image, label]
        size = config.image_size
        onehot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_onehot")(label)
        planes = layers.Reshape((1, 1, num_classes))(onehot)
        planes = layers.UpSampling2D(size=(size, size), name="label_planes")(planes)
        x = layers.Concatenate(name="image_and_label")([image, planes])
    x = _paper_leaky(layers.Conv2D(256, 3)(x))
    x = _paper_leaky(layers.Conv2D(256, 4, strides=2)(x))
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name="discriminator")


# --- dcgan -----------------------------------------------------------------------------------------


def _bn_relu(x: keras.KerasTensor) -> keras.KerasTensor:
    # momentum 0.9 (PyTorch's 0.1) so the moving statistics used for sampling
    # in inference mode keep up with a generator that changes every step.
    bn = layers.BatchNormalization(
        momentum=0.9, epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02)
    )
    return layers.ReLU()(bn(x))


def _dcgan_generator(config: TrainConfig, num_classes: int) -> keras.Model:
    """DCGAN generator: 4x4xW, then transposed convs halving channels, last one to RGB."""
    width = dcgan_width(config)
    doublings = _doublings(config.image_size)
    inputs, x = _generator_inputs(config, num_classes)
    x = layers.Dense(4 * 4 * width, use_bias=False, kernel_initializer=_dcgan_init())(x)
    x = layers.Reshape((4, 4, width))(_bn_relu(x))
    for i in range(1, doublings):
        x = layers.Conv2DTranspose(
            width >> i, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_dcgan_init()
        )(x)
        x = _bn_relu(x)
    x = layers.Conv2DTranspose(CHANNELS, 4, strides=2, padding="same", kernel_initializer=_dcgan_init())(x)
    return keras.Model(inputs, _to_image(x), name="generator")


def _dcgan_discriminator(config: TrainConfig, num_classes: int) -> keras.Model:
    """DCGAN discriminator: strided convs doubling the channels down to 4x4xW.

    Batch norm on every layer but the first, as in the DCGAN paper. Without it,
    D stayed near chance on the demo (D(real) and D(fake) both about 0.5) and
    the samples stayed blurry; ``bench/demo_quality.py`` measures the difference.
    Real and fake batches go through D separately, so each is normalised by its
    own statistics.
    """
    width = dcgan_width(config)
    doublings = _doublings(config.image_size)
    image = _image_input(config)
    x = image
    for i in reversed(range(doublings)):
        x = layers.Conv2D(width >> i, 4, strides=2, padding="same", kernel_initializer=_dcgan_init())(x)
        if i != doublings - 1:
            x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
        x = layers.LeakyReLU(negative_slope=DCGAN_LEAKY_SLOPE)(x)
    features = layers.Flatten(name="features")(x)
    name = "logits_dense" if num_classes else "logits"
    logits = layers.Dense(1, kernel_initializer=_dcgan_init(), dtype="float32", name=name)(features)
    if not num_classes:
        return keras.Model(image, logits, name="discriminator")
    label = _label_input()
    embedding = _label_embedding(
        label,
        num_classes,
        features.shape[-1],
        "label_projection",
        embeddings_initializer=_dcgan_init(),
        dtype="float32",
    )
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedding, features])
    logits = layers.Add(dtype="float32", name="logits")([logits, projection])
    return keras.Model([image, label], logits, name="discriminator")
