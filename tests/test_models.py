"""Shapes, dtypes, the paper networks' exact layout and parameter counts, conditioning, gradients."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_core.config import make_config
from gan_core.models import build_discriminator, build_generator, dcgan_width, is_conditional

NUM_CLASSES = 4


@pytest.fixture(autouse=True)
def _seeded() -> None:
    keras.utils.set_random_seed(0)


def _inputs(config, batch: int, conditional: bool, labels=None):
    z = tf.random.normal((batch, config.latent_dim))
    size = config.image_size
    images = tf.random.uniform((batch, size, size, 3), -1.0, 1.0)
    if not conditional:
        return z, images
    label = tf.constant(labels if labels is not None else np.arange(batch) % NUM_CLASSES, dtype=tf.int32)
    return [z, label], [images, label]


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("preset", ["dcgan32", "dcgan64", "dcgan128"])
def test_dcgan_shapes_and_dtypes(preset: str, conditional: bool) -> None:
    config = make_config(preset, conditional=conditional)
    size = config.image_size
    generator = build_generator(config, NUM_CLASSES)
    discriminator = build_discriminator(config, NUM_CLASSES)
    assert (generator.name, discriminator.name) == ("generator", "discriminator")
    assert len(generator.inputs) == len(discriminator.inputs) == (2 if conditional else 1)
    g_in, d_in = _inputs(config, 2, conditional)
    images = generator(g_in, training=False)
    assert images.shape == (2, size, size, 3)
    assert images.dtype == tf.float32
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    logits = discriminator(d_in, training=False)
    assert logits.shape == (2, 1) and logits.dtype == tf.float32


@pytest.mark.parametrize("conditional", [False, True])
def test_paper_shapes_and_dtypes(conditional: bool) -> None:
    config = make_config("paper", conditional=conditional)
    generator = build_generator(config, NUM_CLASSES)
    discriminator = build_discriminator(config, NUM_CLASSES)
    # No forward pass of the paper G: ~100 GFLOP per image.
    assert tuple(generator.output.shape) == (None, 128, 128, 3)
    assert generator.output.dtype == "float32"
    assert generator.layers[-1].get_config()["activation"] == "tanh"
    _, d_in = _inputs(config, 2, conditional)
    logits = discriminator(d_in, training=False)
    assert logits.shape == (2, 1) and logits.dtype == tf.float32


def _layer_spec(model: keras.Model) -> list[tuple]:
    """(type, details...) per layer; a trailing float32 Activation is folded into the layer before it."""
    spec: list[tuple] = []
    for layer in model.layers:
        cfg = layer.get_config()
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind == "Activation":
            previous = spec.pop()
            assert previous[-1] == "linear"
            spec.append((*previous[:-1], cfg["activation"]))
        elif kind in ("Conv2D", "Conv2DTranspose"):
            spec.append((kind, cfg["filters"], cfg["kernel_size"], cfg["strides"], cfg["padding"], cfg["activation"]))
        elif kind == "Dense":
            spec.append((kind, cfg["units"], cfg["activation"]))
        elif kind == "LeakyReLU":
            spec.append((kind, pytest.approx(cfg["negative_slope"])))
        elif kind == "Reshape":
            spec.append((kind, tuple(cfg["target_shape"])))
        elif kind == "Dropout":
            spec.append((kind, cfg["rate"]))
        else:
            spec.append((kind,))
    return spec


def test_paper_layers_match_reference() -> None:
    config = make_config("paper")
    leaky = ("LeakyReLU", 0.3)  # Keras 2's LeakyReLU() default, as in the reference

    def conv(kind, filters, k, s=1, padding="same", activation="linear"):
        return (kind, filters, (k, k), (s, s), padding, activation)

    expected_g = [
        ("Dense", 128 * 16 * 16, "linear"),
        leaky,
        ("Reshape", (16, 16, 128)),
        conv("Conv2D", 256, 5),
        leaky,
        *[conv("Conv2DTranspose", 256, 4, 2), leaky] * 3,
        *[conv("Conv2D", 512, 5), leaky] * 2,
        conv("Conv2D", 3, 7, activation="tanh"),
    ]
    expected_d = [
        conv("Conv2D", 256, 3, padding="valid"),
        leaky,
        conv("Conv2D", 256, 4, 2, padding="valid"),
        leaky,
        ("Flatten",),
        ("Dropout", 0.4),
        ("Dense", 1, "linear"),  # logits: the reference's sigmoid moves into the loss
    ]
    assert _layer_spec(build_generator(config)) == expected_g
    assert _layer_spec(build_discriminator(config)) == expected_d


def test_paper_parameter_counts() -> None:
    config = make_config("paper")
    latent = config.latent_dim

    def dense(n_in, n_out):
        return n_in * n_out + n_out

    def conv(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    expected_g = (
        dense(latent, 128 * 16 * 16)
        + conv(5, 128, 256)
        + 3 * conv(4, 256, 256)
        + conv(5, 256, 512)
        + conv(5, 512, 512)
        + conv(7, 512, 3)
    )
    side = (128 - 3 + 1 - 4) // 2 + 1  # two valid convs: k3, then k4 stride 2
    expected_d = conv(3, 3, 256) + conv(4, 256, 256) + dense(side * side * 256, 1)
    assert (expected_g, expected_d) == (14_953_987, 2_040_065)
    assert build_generator(config).count_params() == expected_g
    assert build_discriminator(config).count_params() == expected_d


@pytest.mark.parametrize("preset", ["dcgan32", "paper"])
def test_conditioning_changes_outputs(preset: str) -> None:
    config = make_config(preset, conditional=True)
    discriminator = build_discriminator(config, NUM_CLASSES)
    images = tf.random.uniform((1, config.image_size, config.image_size, 3), -1.0, 1.0)
    logits = [discriminator([images, tf.constant([k], tf.int32)]).numpy() for k in (0, 1)]
    assert not np.array_equal(*logits)
    if preset == "paper":
        return  # a paper G forward pass is too slow for the unit tests
    generator = build_generator(config, NUM_CLASSES)
    z = tf.tile(tf.random.normal((1, config.latent_dim)), (2, 1))
    images = generator([z, tf.constant([0, 1], tf.int32)], training=False).numpy()
    assert np.abs(images[0] - images[1]).mean() > 0.1 * np.abs(images).mean()


def test_is_conditional_needs_two_classes() -> None:
    config = make_config("dcgan32", conditional=True)
    assert is_conditional(config, 2)
    assert not is_conditional(config, 1)
    assert not is_conditional(make_config("dcgan32", conditional=False), 5)
    assert len(build_generator(config, 1).inputs) == 1
    assert len(build_discriminator(config, 0).inputs) == 1


@pytest.mark.parametrize("conditional", [False, True])
def test_gradients_flow_dcgan(conditional: bool) -> None:
    config = make_config("dcgan32", conditional=conditional)
    generator = build_generator(config, NUM_CLASSES)
    discriminator = build_discriminator(config, NUM_CLASSES)
    g_in, _ = _inputs(config, 2, conditional)
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(g_in, training=True)
        d_in = [fake, g_in[1]] if conditional else fake
        loss = tf.reduce_mean(discriminator(d_in, training=True))
    for model in (generator, discriminator):
        _assert_finite_gradients(tape.gradient(loss, model.trainable_variables))


@pytest.mark.parametrize("conditional", [False, True])
def test_gradients_flow_paper_discriminator(conditional: bool) -> None:
    config = make_config("paper", conditional=conditional)
    discriminator = build_discriminator(config, NUM_CLASSES)
    _, d_in = _inputs(config, 2, conditional)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(discriminator(d_in, training=True))
    _assert_finite_gradients(tape.gradient(loss, discriminator.trainable_variables))


def _assert_finite_gradients(grads) -> None:
    assert grads and all(g is not None for g in grads)
    assert all(bool(tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(g)))) for g in grads)
    assert any(float(tf.reduce_max(tf.abs(tf.convert_to_tensor(g)))) > 0 for g in grads)


def test_mixed_precision_outputs_stay_float32() -> None:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        config = make_config("dcgan32", conditional=True)
        generator = build_generator(config, NUM_CLASSES)
        discriminator = build_discriminator(config, NUM_CLASSES)
    finally:
        keras.config.set_dtype_policy(previous)
    assert generator.output.dtype == "float32"
    assert discriminator.output.dtype == "float32"
    assert generator.layers[-2].compute_dtype == "float16"


def test_width_override_and_bad_sizes() -> None:
    config = make_config("dcgan64", extra={"width": 32})
    assert dcgan_width(config) == 32
    assert build_generator(config).layers[1].units == 4 * 4 * 32
    with pytest.raises(ValueError, match="width"):
        build_generator(make_config("dcgan64", extra={"width": 4}))
