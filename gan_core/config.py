"""One frozen, validated training configuration, and the named presets.

The same ``TrainConfig`` is built by the CLI and the dashboard, handed to the
trainer and saved as ``config.json`` in the run folder. ``make_config`` fills
every field the caller left out from the chosen preset, then the dataclass
validates itself, so a bad setting fails before any training starts with a
message that names the setting.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

ARCHITECTURES = ("paper", "dcgan")
OPTIMIZERS = ("adam", "rmsprop")
CROP_MODES = ("center", "pad")
DISTRIBUTE_MODES = ("auto", "default", "mirrored", "multiworker")


class ConfigError(ValueError):
    """A setting is out of range; the message names the setting and the fix."""


@dataclass(frozen=True)
class Preset:
    """Defaults for one named architecture/size combination."""

    arch: str
    image_size: int
    image_sizes: tuple[int, ...]  # sizes this architecture can make
    latent_dim: int
    optimizer: str
    lr: float
    beta_1: float
    batch_size: int
    label_noise: float
    clipvalue: float | None
    description: str
    g_ema: float = 0.999  # decay of the generator's moving average (0: sample from the live generator)
    conditional: bool = True  # one model that knows the classes, so each class can be generated on its own


PRESETS: dict[str, Preset] = {
    "dcgan32": Preset(
        "dcgan", 32, (32, 64, 128), 64, "adam", 2e-4, 0.5, 32, 0.0, None,
        "Small DCGAN at 32 px: the laptop default; the loss curve moves within seconds on a CPU.",
    ),
    "dcgan64": Preset(
        "dcgan", 64, (32, 64, 128), 64, "adam", 2e-4, 0.5, 32, 0.0, None,
        "DCGAN at 64 px: objects show within about 10 minutes on a 2-core CPU, sooner on a GPU.",
    ),
    "dcgan128": Preset(
        "dcgan", 128, (32, 64, 128), 100, "adam", 2e-4, 0.5, 32, 0.0, None,
        "DCGAN at 128 px: sharper images, meant for a GPU.",
    ),
    "paper": Preset(
        "paper", 128, (128,), 32, "rmsprop", 1e-4, 0.9, 16, 0.05, 1.0,
        "The reference project's networks at 128 px (RMSprop 1e-4): a GPU preset, about 20 s per image on 2 CPU cores.",
        g_ema=0.0,
        conditional=False,
    ),
}
DEFAULT_PRESET = "dcgan32"


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run. Instances are always valid."""

    # data
    dataset: str = "demo"
    classes: tuple[str, ...] = ()  # empty means every class of the dataset
    crop: str = "center"
    # model
    preset: str = DEFAULT_PRESET
    arch: str = "dcgan"
    image_size: int = 32
    latent_dim: int = 64
    conditional: bool = False
    # optimisation
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta_1: float = 0.5
    clipvalue: float | None = None
    label_noise: float = 0.0
    g_ema: float = 0.0  # off for configs saved before it existed; the dcgan presets turn it on
    batch_size: int = 64
    steps: int = 2000
    seed: int = 0
    # bookkeeping
    sample_every: int = 50
    checkpoint_every: int = 250
    keep_checkpoints: int = 3
    grid_size: int = 36  # control latents in each sample grid
    jit_compile: bool | None = None  # None: XLA on one device or on GPUs; False: plain graph
    distribute: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        _validate(self)

    @property
    def lr(self) -> float:
        """The learning rate when G and D share one (else G's)."""
        return self.lr_g

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["classes"] = list(self.classes)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}.")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def make_config(preset: str = DEFAULT_PRESET, *, lr: float | None = None, **overrides: Any) -> TrainConfig:
    """Resolve a preset plus the caller's overrides into a validated config.

    ``lr`` sets both learning rates; ``lr_g``/``lr_d`` override one each.
    Overrides that are ``None`` mean "use the preset's default".
    """
    if preset not in PRESETS:
        raise ConfigError(f"Unknown preset '{preset}'. Choose one of: {', '.join(PRESETS)}.")
    spec = PRESETS[preset]
    overrides = {key: value for key, value in overrides.items() if value is not None}
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"Unknown setting(s) {', '.join(unknown)}.")
    base_lr = spec.lr if lr is None else lr
    values: dict[str, Any] = {
        "preset": preset,
        "arch": spec.arch,
        "image_size": spec.image_size,
        "latent_dim": spec.latent_dim,
        "optimizer": spec.optimizer,
        "lr_g": base_lr,
        "lr_d": base_lr,
        "beta_1": spec.beta_1,
        "clipvalue": spec.clipvalue,
        "label_noise": spec.label_noise,
        "g_ema": spec.g_ema,
        "conditional": spec.conditional,
        "batch_size": spec.batch_size,
    }
    values.update(overrides)
    return TrainConfig(**values)


def _validate(config: TrainConfig) -> None:
    def fail(setting: str, problem: str) -> None:
        raise ConfigError(f"Setting '{setting}': {problem}")

    if config.preset not in PRESETS:
        fail("preset", f"unknown preset '{config.preset}'; choose one of {', '.join(PRESETS)}.")
    spec = PRESETS[config.preset]
    if config.arch not in ARCHITECTURES:
        fail("arch", f"must be one of {', '.join(ARCHITECTURES)}.")
    if config.image_size not in spec.image_sizes:
        sizes = ", ".join(str(s) for s in spec.image_sizes)
        fail("image_size", f"the '{config.preset}' preset cannot make {config.image_size} px images; use {sizes}.")
    if config.crop not in CROP_MODES:
        fail("crop", f"must be 'center' or 'pad', not '{config.crop}'.")
    if not isinstance(config.latent_dim, int) or config.latent_dim < 1:
        fail("latent_dim", f"must be a whole number of at least 1, not {config.latent_dim!r}.")
    if config.latent_dim > 4096:
        fail("latent_dim", f"{config.latent_dim} is unreasonably large; use at most 4096.")
    for name in ("lr_g", "lr_d"):
        value = getattr(config, name)
        if not isinstance(value, (int, float)) or not value > 0:
            fail(name, f"the learning rate must be greater than 0, not {value!r}.")
        if value >= 1:
            fail(name, f"a learning rate of {value} will diverge at once; use something like 1e-4 or 2e-4.")
    if config.optimizer not in OPTIMIZERS:
        fail("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, not '{config.optimizer}'.")
    if not 0 <= config.beta_1 < 1:
        fail("beta_1", "must be in [0, 1).")
    if config.clipvalue is not None and config.clipvalue <= 0:
        fail("clipvalue", "must be greater than 0, or empty for no clipping.")
    if not 0 <= config.label_noise < 0.5:
        fail("label_noise", "must be in [0, 0.5).")
    if not 0 <= config.g_ema < 1:
        fail("g_ema", "must be in [0, 1): 0 turns the moving average off, 0.999 is usual.")
    positive_ints = ("batch_size", "steps", "sample_every", "checkpoint_every", "keep_checkpoints", "grid_size")
    for name in positive_ints:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            fail(name, f"must be a whole number of at least 1, not {value!r}.")
    if config.grid_size > 256:
        fail("grid_size", "use at most 256 images in a sample grid.")
    if not isinstance(config.seed, int) or config.seed < 0:
        fail("seed", "must be a whole number of 0 or more.")
    if config.distribute not in DISTRIBUTE_MODES:
        fail("distribute", f"must be one of {', '.join(DISTRIBUTE_MODES)}.")
    if len(set(config.classes)) != len(config.classes):
        fail("classes", "lists a class twice.")
