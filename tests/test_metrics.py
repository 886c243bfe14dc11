"""Quality metrics: known answers for IS/FID/KID, the extractor, the cached pipeline, offline weights, the CLI."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
from conftest import write_class_folders

from gan_core import cli, evaluation, features, metrics
from gan_core.config import make_config
from gan_core.evaluation import EvalJobs, evaluate_run, plan_evaluation, read_results
from gan_core.features import InceptionWeightsMissing, KerasExtractor
from gan_core.metrics import (
    FeatureSet,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
    parse_metric_names,
)
from gan_core.runs import Run, RunStore
from gan_core.trainer import start_run


def random_spd(rng: np.random.Generator, dim: int, samples: int) -> np.ndarray:
    return np.cov(rng.standard_normal((samples, dim)) @ rng.standard_normal((dim, dim)), rowvar=False)


def textbook_fid(mu1, sigma1, mu2, sigma2) -> float:
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


# -- FID -------------------------------------------------------------------------------

def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = metrics.feature_statistics(rng.standard_normal((500, 32)))
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_fid_with_equal_covariances_is_the_squared_mean_distance():
    rng = np.random.default_rng(1)
    sigma = random_spd(rng, 48, 400)
    mu1, mu2 = rng.standard_normal(48), rng.standard_normal(48)
    expected = float(np.sum((mu1 - mu2) ** 2))
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(expected, rel=1e-10, abs=1e-9)


def test_fid_of_diagonal_covariances_has_the_closed_form():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0.1, 5, 40), rng.uniform(0.1, 5, 40)
    mu1, mu2 = rng.standard_normal(40), rng.standard_normal(40)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_fid_agrees_with_the_textbook_sqrtm_formula(seed):
    rng = np.random.default_rng(seed)
    dim = 64
    sigma1, sigma2 = random_spd(rng, dim, 300), random_spd(rng, dim, 500)
    mu1, mu2 = rng.standard_normal(dim), rng.standard_normal(dim) * 0.1
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(
        textbook_fid(mu1, sigma1, mu2, sigma2), rel=1e-6)


def test_fid_is_symmetric_and_handles_singular_covariances():
    rng = np.random.default_rng(6)
    # 20 samples in 64 dimensions: both covariances have rank 19
    mu1, sigma1 = metrics.feature_statistics(rng.standard_normal((20, 64)))
    mu2, sigma2 = metrics.feature_statistics(rng.standard_normal((20, 64)) + 0.5)
    forward, backward = frechet_distance(mu1, sigma1, mu2, sigma2), frechet_distance(mu2, sigma2, mu1, sigma1)
    assert np.isfinite(forward) and forward > 0
    assert forward == pytest.approx(backward, rel=1e-9)
    assert frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(0.0, abs=1e-8)


def test_fid_from_features_agrees_with_the_statistics_route():
    rng = np.random.default_rng(13)
    x, y = rng.standard_normal((20, 64)), rng.standard_normal((30, 64)) * 1.3 + 0.2  # fewer samples than dims
    expected = frechet_distance(*metrics.feature_statistics(x), *metrics.feature_statistics(y))
    # clipping round-off eigenvalues of rank-deficient matrices costs the eigh route ~1e-8 relative
    assert metrics.frechet_distance_from_features(x, y) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance_from_features(y, x) == pytest.approx(expected, rel=1e-6)
    x, y = rng.standard_normal((90, 8)), rng.standard_normal((70, 8)) + 1  # more samples: the eigh route itself
    expected = frechet_distance(*metrics.feature_statistics(x), *metrics.feature_statistics(y))
    assert metrics.frechet_distance_from_features(x, y) == expected


def test_fid_rejects_mismatched_or_non_finite_statistics():
    with pytest.raises(ValueError, match="Shapes"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2))


# -- IS --------------------------------------------------------------------------------

def test_inception_score_of_uniform_predictions_is_exactly_one():
    mean, std = inception_score(np.full((100, 7), 1 / 7))
    assert mean == pytest.approx(1.0, abs=1e-15) and std == pytest.approx(0.0, abs=1e-15)  # 1 up to one ulp
    assert inception_score(np.full((64, 8), 1 / 8)) == (1.0, 0.0)  # exact where 1/C is


def test_inception_score_of_one_hot_predictions_with_uniform_marginal_is_the_class_count():
    classes = 5
    probs = np.eye(classes)[np.arange(200) % classes]  # every split of 20 holds each class 4 times
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_uses_split_boundaries_i_n_over_splits():
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(4) * 0.3, size=23)
    scores = []
    for i in range(3):
        part = probs[i * 23 // 3:(i + 1) * 23 // 3]
        marginal = part.mean(axis=0)
        scores.append(np.exp(np.mean(np.sum(part * np.log(part / marginal), axis=1))))
    mean, std = inception_score(probs, splits=3)
    assert mean == pytest.approx(np.mean(scores), rel=1e-12)
    assert std == pytest.approx(np.std(scores), rel=1e-9)
    with pytest.raises(ValueError):
        inception_score(probs * 2)


# -- KID -------------------------------------------------------------------------------

def definition_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD² written out as sums over pairs."""
    d, m = x.shape[1], len(x)
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_with_one_subset_of_everything_is_the_unbiased_mmd(monkeypatch):
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)) + 0.3
    expected = definition_mmd2(x, y)
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=7)
    assert mean == pytest.approx(expected, rel=1e-10) and std == 0.0
    monkeypatch.setattr(metrics, "KID_GRAM_ROWS", 0)  # the per-subset path gives the same
    assert kernel_inception_distance(x, y, num_subsets=1, subset_size=7)[0] == pytest.approx(expected, rel=1e-10)


def test_kid_is_about_zero_for_one_distribution_and_clearly_positive_for_two():
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((600, 32)), rng.standard_normal((600, 32))
    shifted = rng.standard_normal((600, 32)) * 1.5 + 0.5
    same, same_std = kernel_inception_distance(a, b, num_subsets=20, subset_size=300)
    different, _ = kernel_inception_distance(a, shifted, num_subsets=20, subset_size=300)
    assert abs(same) < 3 * same_std + 1e-3
    assert different > 50 * max(abs(same), same_std)


def test_kid_subsets_are_reproducible_and_both_paths_agree(monkeypatch):
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((80, 16)), rng.standard_normal((60, 16)) + 0.2
    first = kernel_inception_distance(a, b, num_subsets=10, subset_size=30, seed=3)
    assert kernel_inception_distance(a, b, num_subsets=10, subset_size=30, seed=3) == first
    monkeypatch.setattr(metrics, "KID_GRAM_ROWS", 0)
    assert kernel_inception_distance(a, b, num_subsets=10, subset_size=30, seed=3) == pytest.approx(first, rel=1e-9)


# -- registry --------------------------------------------------------------------------

def test_registry_names_feed_parsing_and_its_error_message():
    assert list(metrics.METRICS) == ["is", "fid", "kid"]
    assert parse_metric_names("KID, is") == ("is", "kid")
    with pytest.raises(metrics.UnknownMetric, match="choose from is, fid, kid"):
        parse_metric_names("fid,lpips")


def test_registered_metrics_equal_the_plain_functions():
    rng = np.random.default_rng(11)
    real = FeatureSet(rng.standard_normal((40, 6)).astype(np.float32), rng.dirichlet(np.ones(3), 40))
    fake = FeatureSet(rng.standard_normal((30, 6)).astype(np.float32), rng.dirichlet(np.ones(3), 30))
    results = {r.key: r for r in evaluation.compute_metrics(("is", "fid", "kid"), real, fake)}
    assert results["is"].value == inception_score(fake.probs)[0] and results["is"].num_real == 0
    assert results["fid"].value == frechet_distance(*real.stats, *fake.stats)
    assert results["kid"].value == kernel_inception_distance(real.features, fake.features)[0]
    assert (results["fid"].num_real, results["fid"].num_fake) == (40, 30)


# -- the extractor ---------------------------------------------------------------------

def small_extractor(name: str = "small-net", batch_size: int = 32) -> KerasExtractor:
    """A tiny two-output Keras network that stands in for Inception-v3."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    probs = keras.layers.Dense(5, activation="softmax")(pooled)
    return KerasExtractor(keras.Model(inputs, [pooled, probs]), name, input_size=24, batch_size=batch_size)


class CountingExtractor:
    """Passes through to another extractor, counting the images it is given."""

    def __init__(self, inner):
        self.inner, self.name, self.speed_key, self.images = inner, inner.name, inner.speed_key, 0

    def extract(self, images):
        self.images += len(images)
        return self.inner.extract(images)


def test_extractor_results_do_not_depend_on_the_batch_size():
    images = np.random.default_rng(12).integers(0, 256, (37, 32, 32, 3), dtype=np.uint8)
    extractor = small_extractor(batch_size=1)
    reference = extractor.extract(images)
    for batch_size in (5, 64):
        extractor.batch_size = batch_size
        feats, probs = extractor.extract(images)
        np.testing.assert_allclose(feats, reference[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(probs, reference[1], rtol=1e-5, atol=1e-6)
    assert reference[0].shape == (37, 8) and reference[1].shape == (37, 5)
    np.testing.assert_allclose(reference[1].sum(axis=1), 1.0, rtol=1e-5)


# -- the pipeline on a tiny trained run ------------------------------------------------------

@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Run:
    """A conditional dcgan32 run on 2 × 12 images with checkpoints at steps 2 and 4."""
    base = tmp_path_factory.mktemp("evaluate")
    folder = write_class_folders(base / "tiny", {"battery": 12, "shoes": 12})
    config = make_config("dcgan32", dataset=str(folder), steps=4, batch_size=8, checkpoint_every=2, sample_every=2,
                         grid_size=4, latent_dim=8, conditional=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHBIN_CACHE", str(base / "cache"))
        return start_run(config, RunStore(base / "runs"))


@pytest.fixture
def tiny_run(trained_run, tmp_path) -> Run:
    """A private copy of the trained run, so each test sees its own metrics_eval.csv."""
    return Run(shutil.copytree(trained_run.path, tmp_path / "runs" / trained_run.id))


def test_second_evaluation_extracts_only_the_generated_images(tiny_run):
    extractor = CountingExtractor(small_extractor())
    first = evaluate_run(tiny_run, num_samples=10, extractor=extractor)
    assert extractor.images == 10 + 10 and not first.real_from_cache
    second = evaluate_run(tiny_run, num_samples=10, extractor=extractor, step=2)
    assert extractor.images == 20 + 10 and second.real_from_cache
    other = CountingExtractor(small_extractor(name="other-net"))
    evaluate_run(tiny_run, num_samples=10, extractor=other)  # another extractor has its own cache entry
    assert other.images == 20

    assert (first.step, second.step) == (4, 2)
    assert (first.num_real, first.num_fake, first.extractor) == (10, 10, "small-net")
    keys = {r.key: r for r in first.results}
    assert set(keys) == {"is", "fid", "kid", "fid/battery", "kid/battery", "fid/shoes", "kid/shoes"}
    assert keys["fid/battery"].num_real + keys["fid/shoes"].num_real == 10
    assert keys["fid/battery"].num_fake + keys["fid/shoes"].num_fake == 10
    assert all(np.isfinite(r.value) for r in first.results)
    assert any("fewer than the 2,048" in text for text in first.warnings)
    assert any("not Inception-v3" in text for text in first.warnings)

    table = read_results(tiny_run)
    assert list(table.columns) == list(evaluation.EVAL_COLUMNS)
    assert len(table) == 3 * 7 and sorted(set(table["step"])) == [2, 4]
    row = table[(table["metric"] == "fid") & (table["step"] == 4)].iloc[0]
    assert row["value"] == pytest.approx(keys["fid"].value) and row["num_real"] == 10
    assert row["extractor"] == "small-net"


def test_the_same_checkpoint_gets_the_same_scores(tiny_run):
    extractor = small_extractor()
    one = evaluate_run(tiny_run, metrics="fid,kid", num_samples=8, extractor=extractor, save=False)
    two = evaluate_run(tiny_run, metrics="fid,kid", num_samples=8, extractor=extractor, save=False)
    assert [r.value for r in one.results] == pytest.approx([r.value for r in two.results], rel=1e-6)
    assert not evaluation.results_path(tiny_run).exists()


def test_inception_score_alone_needs_no_real_images(tiny_run):
    extractor = CountingExtractor(small_extractor())
    result = evaluate_run(tiny_run, metrics=["is"], num_samples=6, extractor=extractor)
    assert extractor.images == 6 and result.num_real == 0
    assert [r.key for r in result.results] == ["is"]


def test_background_job_reports_progress_and_can_be_cancelled(tiny_run):
    jobs = EvalJobs(RunStore(tiny_run.path.parent))
    job = jobs.submit(tiny_run, num_samples=6, metrics=("fid",), extractor=small_extractor())
    assert jobs.wait(job.id, timeout=120)
    assert job.state == "finished", job.error
    assert job.result.num_fake == 6 and job.fraction == 1.0

    cancelled = jobs.submit(tiny_run, num_samples=6, extractor=small_extractor())
    jobs.cancel(cancelled.id)
    assert jobs.wait(cancelled.id, timeout=120)
    assert cancelled.state == "cancelled" and cancelled.result is None


# -- weights: offline, missing, the real network through a weights file -------------------------

@pytest.fixture
def no_keras_cache(tmp_path, monkeypatch) -> Path:
    """An empty home and Keras cache, and no weights setting."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(features.WEIGHTS_ENV, raising=False)
    return tmp_path / "home" / ".keras" / "models" / features.WEIGHTS_FILE


def offline_get_file(*args, **kwargs):
    """What ``keras.utils.get_file`` raises on a machine without network access."""
    raise Exception(f"URL fetch failure on {features.WEIGHTS_URL}: None -- [Errno -3] "
                    "Temporary failure in name resolution")


def test_offline_without_weights_says_which_file_to_put_where(no_keras_cache, monkeypatch):
    import keras

    monkeypatch.setattr(keras.utils, "get_file", offline_get_file)
    started = time.monotonic()
    with pytest.raises(InceptionWeightsMissing) as caught:
        features.inception_extractor()
    assert time.monotonic() - started < features.PROBE_TIMEOUT_S + 2
    message = str(caught.value)
    assert features.WEIGHTS_FILE in message and features.WEIGHTS_URL in message
    assert str(no_keras_cache) in message and "--inception-weights" in message
    assert caught.value.target == no_keras_cache


def test_download_is_not_tried_when_the_server_does_not_answer(no_keras_cache, monkeypatch):
    import keras

    monkeypatch.setattr(features, "reachable", lambda host, **kwargs: False)
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(InceptionWeightsMissing, match="does not answer"):
        features.resolve_weights()


def test_weights_resolve_from_setting_then_keras_cache(no_keras_cache, tmp_path, monkeypatch):
    explicit = tmp_path / "mine.weights.h5"
    explicit.write_bytes(b"x")
    no_keras_cache.parent.mkdir(parents=True)
    no_keras_cache.write_bytes(b"y")
    assert features.resolve_weights(explicit) == explicit
    monkeypatch.setenv(features.WEIGHTS_ENV, str(explicit))
    assert features.resolve_weights() == explicit
    monkeypatch.delenv(features.WEIGHTS_ENV)
    assert features.resolve_weights() == no_keras_cache
    with pytest.raises(InceptionWeightsMissing, match="no Inception-v3 weights file at"):
        features.resolve_weights(tmp_path / "missing.h5")


def test_cli_reports_missing_weights_and_bad_metrics_in_one_line(tiny_run, no_keras_cache, monkeypatch, capsys):
    monkeypatch.setattr(features, "reachable", lambda host, **kwargs: False)
    runs = str(tiny_run.path.parent)
    assert cli.main(["evaluate", tiny_run.id, "--runs-dir", runs, "--num-samples", "4"]) == 2
    error = capsys.readouterr().err.split("\r")[-1]  # after the cleared progress bar
    assert error.startswith("error: ") and error.count("\n") == 1
    assert features.WEIGHTS_FILE in error and str(no_keras_cache) in error

    assert cli.main(["evaluate", tiny_run.id, "--runs-dir", runs, "--metrics", "fid,fsd"]) == 2
    assert "Unknown metric 'fsd'; choose from is, fid, kid" in capsys.readouterr().err
    assert cli.main(["evaluate", tiny_run.id, "--runs-dir", runs, "--checkpoint", "3",
                     "--inception-weights", str(tiny_run.path / "config.json")]) == 2
    assert "no checkpoint at step 3" in capsys.readouterr().err


@pytest.fixture(scope="session")
def random_inception_weights(tmp_path_factory) -> Path:
    """A randomly initialised InceptionV3 (with top) saved as a Keras weights file."""
    import keras

    path = tmp_path_factory.getbasetemp() / "inception-random.weights.h5"
    if not path.exists():
        keras.utils.set_random_seed(0)
        keras.applications.InceptionV3(include_top=True, weights=None).save_weights(str(path))
    return path


def test_full_pipeline_with_inception_from_a_weights_file(tiny_run, random_inception_weights, capsys):
    args = ["evaluate", str(tiny_run.path), "--metrics", "is,fid,kid", "--num-samples", "6",
            "--inception-weights", str(random_inception_weights), "--json"]
    assert cli.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["extractor"].startswith("keras-inception-v3:weights-")
    assert (report["num_real"], report["num_fake"], report["step"]) == (6, 6, 4)
    values = {r["key"]: r for r in report["results"]}
    assert {"is", "fid", "kid", "fid/battery", "kid/shoes"} <= set(values)
    assert values["is"]["value"] >= 1.0 - 1e-6 and values["fid"]["value"] >= 0
    assert "2015 TensorFlow Inception graph" in report["note"]
    assert any("does not use Keras's ImageNet weights" in text for text in report["warnings"])
    assert set(read_results(tiny_run)["metric"]) == set(values)

    plan = plan_evaluation(tiny_run, "fid", num_samples=6, weights=random_inception_weights)
    assert plan.real_cached and plan.images_to_extract == 6 and plan.num_real == 6
    assert plan.speed_measured or plan.images_per_sec > 0
