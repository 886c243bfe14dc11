"""The training config: presets resolve, bad settings are refused with their name, JSON round-trips."""

from __future__ import annotations

import pytest

from gan_core.config import PRESETS, ConfigError, TrainConfig, make_config


def test_every_preset_resolves_to_a_valid_config():
    for name, preset in PRESETS.items():
        config = make_config(name)
        assert config.preset == name
        assert config.arch == preset.arch and config.image_size == preset.image_size


def test_the_paper_preset_uses_the_reference_settings():
    config = make_config("paper")
    assert (config.image_size, config.latent_dim, config.optimizer) == (128, 32, "rmsprop")
    assert config.lr_g == config.lr_d == 1e-4
    assert config.clipvalue == 1.0 and config.label_noise == 0.05
    assert not config.conditional and config.g_ema == 0.0  # trained as the reference did


def test_dcgan_presets_are_conditional_with_a_moving_average_and_can_be_turned_off():
    config = make_config("dcgan32")
    assert config.conditional and config.g_ema == 0.999
    plain = make_config("dcgan32", conditional=False, g_ema=0.0)
    assert not plain.conditional and plain.g_ema == 0.0
    with pytest.raises(ConfigError, match="g_ema"):
        make_config("dcgan32", g_ema=1.0)


def test_a_config_saved_before_the_moving_average_existed_loads_without_one():
    saved = make_config("dcgan32").to_dict()
    del saved["g_ema"]
    assert TrainConfig.from_dict(saved).g_ema == 0.0  # its checkpoints hold no averaged generator


def test_one_learning_rate_sets_both_and_each_can_be_overridden():
    config = make_config("dcgan32", lr=1e-4, lr_d=4e-4)
    assert (config.lr_g, config.lr_d) == (1e-4, 4e-4)


def test_none_overrides_mean_the_preset_default():
    assert make_config("dcgan64", batch_size=None).batch_size == PRESETS["dcgan64"].batch_size


@pytest.mark.parametrize(
    "overrides, setting",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"lr": 0.0}, "lr_g"),
        ({"lr_d": -1e-3}, "lr_d"),
        ({"batch_size": 0}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"image_size": 48}, "image_size"),
        ({"crop": "stretch"}, "crop"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"classes": ("metal", "metal")}, "classes"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(overrides, setting):
    with pytest.raises(ConfigError, match=setting):
        make_config("dcgan32", **overrides)


def test_unknown_preset_and_unknown_keys_are_refused():
    with pytest.raises(ConfigError, match="Unknown preset"):
        make_config("stylegan9")
    with pytest.raises(ConfigError, match="colour"):
        TrainConfig.from_dict({**make_config().to_dict(), "colour": "red"})


def test_config_round_trips_through_json_and_is_frozen():
    config = make_config("dcgan64", classes=("metal", "paper"), conditional=True, seed=7)
    import json

    assert TrainConfig.from_dict(json.loads(config.to_json())) == config
    with pytest.raises(AttributeError):
        config.seed = 3
