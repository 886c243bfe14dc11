"""The training settings form: widgets with help text, preset defaults, and the config they make."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gan_core.config import DEFAULT_PRESET, PRESETS, ConfigError, TrainConfig, make_config
from ui.state import DatasetPick

_PRESET_FIELDS = ("image_size", "latent_dim", "batch_size")
HELP = {
    "preset": "A ready-made network and optimiser. It fills in image size, latent dimension, learning rate and "
              "batch size below; change them afterwards if you like.",
    "image_size": "Side of the square images the GAN learns to make, in pixels. Each doubling makes every "
                  "step about 4 times slower and needs more steps to look good.",
    "latent_dim": "Length of the random vector the generator turns into an image. Bigger gives the generator "
                  "more room for variety but makes it slower to learn; 64–128 is typical.",
    "separate_lr": "Give the generator and the discriminator their own learning rates, e.g. a slower "
                   "discriminator when it wins too easily (its loss drops towards 0).",
    "lr": "How big a step both networks take on each update. Too high and training becomes unstable "
          "(losses jump, images turn to noise); too low and nothing changes for a long time. 2e-4 is the classic "
          "DCGAN value.",
    "lr_g": "Learning rate of the generator (the network that draws the images).",
    "lr_d": "Learning rate of the discriminator (the network that tells real from generated).",
    "batch_size": "Images per training step. Bigger batches give smoother losses and use more memory; each step "
                  "takes longer but sees more images. Must not exceed the number of images picked.",
    "steps": "How many updates to make. Training time grows in proportion; the progress bar shows an estimate "
             "once it runs.",
    "conditional": "Feed the class to both networks, so the generator learns each class separately and can be "
                   "asked for a given class. Needs at least two classes; slightly slower.",
    "sample_every": "Draw a grid of images from the same fixed random vectors every this many steps, so you can "
                    "watch them improve. Lower means more grids and a little more time spent drawing.",
    "checkpoint_every": "Save the networks every this many steps. Stop, Pause and a crash resume from the last "
                        "save, so lower loses less work but spends more time writing files.",
    "seed": "Starting point of every random choice. The same settings and seed train the same run again.",
}


def _preset_values(preset: str) -> dict[str, Any]:
    spec = PRESETS[preset]
    return {"train_image_size": spec.image_size, "train_latent_dim": spec.latent_dim,
            "train_batch_size": spec.batch_size, "train_lr": spec.lr, "train_lr_g": spec.lr, "train_lr_d": spec.lr,
            "train_conditional": spec.conditional}


def init_defaults() -> None:
    """Put the default preset's values into the session once (widgets then read them by key)."""
    defaults = TrainConfig()
    values = {"train_preset": DEFAULT_PRESET, "train_separate_lr": False, "train_steps": defaults.steps,
              "train_sample_every": defaults.sample_every,
              "train_checkpoint_every": defaults.checkpoint_every, "train_seed": defaults.seed,
              **_preset_values(DEFAULT_PRESET)}
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def _apply_preset() -> None:
    st.session_state.update(_preset_values(st.session_state["train_preset"]))


def settings_form() -> dict[str, Any]:
    """Draw the settings widgets; returns ``make_config`` keyword arguments."""
    init_defaults()
    left, right = st.columns(2)
    with left:
        preset = st.selectbox("Preset", list(PRESETS), key="train_preset", on_change=_apply_preset,
                              help=HELP["preset"])
        st.caption(PRESETS[preset].description)
        st.selectbox("Image size (px)", PRESETS[preset].image_sizes, key="train_image_size", help=HELP["image_size"])
        st.number_input("Latent dimension", step=16, key="train_latent_dim", help=HELP["latent_dim"])
        st.number_input("Batch size", step=8, key="train_batch_size", help=HELP["batch_size"])
    with right:
        st.number_input("Training steps", step=100, key="train_steps", help=HELP["steps"])
        separate = st.toggle("Separate learning rates for G and D", key="train_separate_lr",
                             help=HELP["separate_lr"])
        if separate:
            st.number_input("Generator learning rate", step=5e-5, format="%.5f", key="train_lr_g",
                            help=HELP["lr_g"])
            st.number_input("Discriminator learning rate", step=5e-5, format="%.5f", key="train_lr_d",
                            help=HELP["lr_d"])
        else:
            st.number_input("Learning rate", step=5e-5, format="%.5f", key="train_lr", help=HELP["lr"])
        st.toggle("Conditional (one model that knows the classes)", key="train_conditional",
                  help=HELP["conditional"])
    with st.expander("More settings"):
        columns = st.columns(3)
        columns[0].number_input("Sample grid every (steps)", step=10, key="train_sample_every",
                                help=HELP["sample_every"])
        columns[1].number_input("Checkpoint every (steps)", step=50, key="train_checkpoint_every",
                                help=HELP["checkpoint_every"])
        columns[2].number_input("Seed", step=1, key="train_seed", help=HELP["seed"])
    return _overrides()


def _overrides() -> dict[str, Any]:
    get = st.session_state.get
    rates = ({"lr_g": get("train_lr_g"), "lr_d": get("train_lr_d")} if get("train_separate_lr")
             else {"lr": get("train_lr")})
    fields = ("image_size", "latent_dim", "batch_size", "steps", "conditional", "sample_every",
              "checkpoint_every", "seed")
    return {"preset": get("train_preset"), **rates, **{name: get(f"train_{name}") for name in fields}}


def build_config(pick: DatasetPick, overrides: dict[str, Any]) -> TrainConfig:
    """The validated config for the session's dataset and settings; raises ``ConfigError`` naming the setting."""
    if pick.classes is not None and not pick.classes:
        raise ConfigError("Setting 'classes': no class is picked. Pick at least one class on the Dataset page.")
    values = dict(overrides)
    # number_input gives floats when its step is a float; whole-number settings must be ints
    for name in ("latent_dim", "batch_size", "steps", "sample_every", "checkpoint_every", "seed", "image_size"):
        value = values.get(name)
        if isinstance(value, float) and value.is_integer():
            values[name] = int(value)
    try:
        return make_config(values.pop("preset"), dataset=pick.source, classes=pick.classes or (), **values)
    except ConfigError as error:
        if "lr" in values:  # one shared rate: point at the widget the user sees
            raise ConfigError(str(error).replace("Setting 'lr_g'", "Setting 'lr'", 1)) from None
        raise
