"""How fast a training setup learns the demo: a judge network scores the generated images by wall-clock time.

    .venv/bin/python bench/demo_quality.py --minutes 2,5,10 \\
        --variant dcgan32 --variant cond:conditional=true --variant wide:conditional=true,width=256

Each ``--variant NAME[:PRESET][:key=value,...]`` is one training setup on the built-in demo
(every class): ``PRESET`` defaults to ``dcgan32``; ``key=value`` pairs are config settings
(``lr=4e-4``, ``conditional=true``, ``batch_size=32``) or architecture knobs for ``config.extra``
(``width=256``). Variants train one after another; at each mark of
``--minutes`` (training time only: scoring is not counted) the generator is scored:

* **right class** (conditional models): the share of generated images the judge puts in the
  class they were generated for. Chance is 1 in 12 (8%).
* **classes**: how many classes get at least 2% of the judge's verdicts (mode coverage).
* **KID×1000** between real and generated images in the judge's feature space (lower is better).

The judge is a small CNN trained on 85% of the demo at the same image size; its accuracy on the
other 15% is printed so the scores can be trusted. A trained judge is kept in ``--judge-cache``
(default ``bench_out/judges``) and reused while the demo is unchanged. Grids of generated images
at every mark go to ``--out`` (class per row for conditional models). This is a benchmark, not a
test: minutes per run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_core.config import TrainConfig, make_config  # noqa: E402
from gan_core.data import ImageDataset, load_dataset  # noqa: E402
from gan_core.imaging import image_grid  # noqa: E402
from gan_core.metrics import kernel_inception_distance  # noqa: E402
from gan_core.runs import RunStore  # noqa: E402
from gan_core.trainer import TrainControl, Trainer, TrainEvent, create_run  # noqa: E402

CONFIG_KEYS = {name for name in TrainConfig.__dataclass_fields__ if name != "extra"}
PER_CLASS = 50  # generated images per class at each mark
COVERED = 0.02


@dataclass(frozen=True)
class Variant:
    name: str
    preset: str
    settings: dict
    extra: dict


def parse_variant(text: str) -> Variant:
    name, _, rest = text.partition(":")
    preset, settings_text = "dcgan32", rest
    if rest and "=" not in rest.split(":")[0]:
        preset, _, settings_text = rest.partition(":")
    settings, extra = {}, {}
    for pair in filter(None, settings_text.split(",")):
        key, _, raw = pair.partition("=")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        (settings if key in CONFIG_KEYS or key == "lr" else extra)[key] = value
    return Variant(name, preset, settings, extra)


# -- the judge -------------------------------------------------------------------------------------

def train_judge(dataset: ImageDataset, cache: Path, seed: int = 0) -> tuple[keras.Model, keras.Model, float]:
    """A classifier of the demo's classes, its feature extractor, and its held-out accuracy.

    The trained judge is kept in ``cache`` (keyed by the demo's fingerprint) so later runs skip its minutes of training.
    """
    keras.utils.set_random_seed(seed)
    x = dataset.images.astype(np.float32) / 127.5 - 1.0
    y = dataset.labels
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.85 * len(x))
    train, held_out = order[:split], order[split:]
    saved = cache / f"judge-{dataset.fingerprint[:16]}-{x.shape[1]}px-s{seed}.keras"
    if saved.exists():
        judge = keras.models.load_model(saved)
        features = judge.get_layer("features").output
        accuracy = judge.evaluate(x[held_out], y[held_out], verbose=0)[1]
        return judge, keras.Model(judge.inputs, features), float(accuracy)
    inputs = keras.Input(x.shape[1:])
    h = keras.layers.RandomFlip("horizontal")(inputs)
    for width in (32, 64, 128):  # no batch norm: its inference mode made held-out accuracy jump around
        h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D()(h)
    features = keras.layers.GlobalAveragePooling2D(name="features")(h)
    logits = keras.layers.Dense(len(dataset.class_names))(features)
    judge = keras.Model(inputs, logits)
    judge.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    judge.fit(x[train], y[train], batch_size=64, epochs=20, verbose=0)
    accuracy = judge.evaluate(x[held_out], y[held_out], verbose=0)[1]
    cache.mkdir(parents=True, exist_ok=True)
    judge.save(saved)
    return judge, keras.Model(inputs, features), float(accuracy)


def judge_outputs(judge: keras.Model, extractor: keras.Model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(judge.predict(images, batch_size=256, verbose=0)))
    return probs, extractor.predict(images, batch_size=256, verbose=0)


# -- scoring ---------------------------------------------------------------------------------------

def score(trainer: Trainer, judge, extractor, real_features: np.ndarray, num_classes: int) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(num_classes), PER_CLASS)
    z = rng.standard_normal((len(labels), trainer.config.latent_dim)).astype(np.float32)
    images = np.concatenate([trainer.gan.generate(z[i:i + 200], labels[i:i + 200]) for i in range(0, len(z), 200)])
    probs, features = judge_outputs(judge, extractor, images)
    verdict = probs.argmax(axis=1)
    share = np.bincount(verdict, minlength=num_classes) / len(verdict)
    result = {
        "classes": int((share >= COVERED).sum()),
        "kid_x1000": 1000 * kernel_inception_distance(real_features, features, num_subsets=50, subset_size=500)[0],
    }
    if trainer.gan.conditional:
        result["right_class"] = float((verdict == labels).mean())
    shown = np.concatenate([images[labels == c][:8] for c in range(num_classes)])
    return result, shown


def train_and_score(variant: Variant, data: ImageDataset, judge, extractor, real_features: np.ndarray,
                    marks_s: list[float], out: Path) -> list[dict]:
    config = make_config(variant.preset, dataset="demo", steps=10**9, sample_every=10**8, checkpoint_every=10**8,
                         grid_size=4, **variant.settings)
    config = config.replace(extra={**config.extra, **variant.extra})
    with tempfile.TemporaryDirectory() as runs:
        run = create_run(config, RunStore(runs), data)
        control = TrainControl()
        trainer = Trainer(run, data, control=control)
        rows: list[dict] = []
        clock = {"scoring": 0.0, "start": None}
        pending = list(marks_s)

        def on_event(event: TrainEvent) -> None:
            if event.kind != "step":
                return
            now = time.perf_counter()
            clock["start"] = clock["start"] or now
            trained = now - clock["start"] - clock["scoring"]
            if not pending or trained < pending[0]:
                return
            pending.pop(0)
            result, shown = score(trainer, judge, extractor, real_features, len(data.class_names))
            row = {"variant": variant.name, "minutes": round(trained / 60, 1), "step": event.step,
                   "img_per_s": round(event.step * config.batch_size / trained), **result}
            rows.append(row)
            print(json.dumps(row), flush=True)
            image_grid(shown, columns=8).save(out / f"{variant.name}_{round(trained / 60):03d}min.png")
            clock["scoring"] += time.perf_counter() - now
            if not pending:
                control.request_stop()

        trainer.on_event = on_event
        trainer.fit()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", required=True, help="NAME[:PRESET][:key=value,...]")
    parser.add_argument("--minutes", default="2,5,10", help="training minutes at which to score")
    parser.add_argument("--out", type=Path, default=Path("bench_out/demo_quality"))
    parser.add_argument("--judge-cache", type=Path, default=Path("bench_out/judges"),
                        help="folder for trained judges, reused by later runs")
    args = parser.parse_args()
    variants = [parse_variant(text) for text in args.variant]
    marks = [60 * float(m) for m in args.minutes.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    judges: dict[int, tuple] = {}
    rows = []
    for variant in variants:
        size = variant.settings.get("image_size") or make_config(variant.preset).image_size
        if size not in judges:
            real = load_dataset("demo", image_size=size)
            judge, extractor, accuracy = train_judge(real, args.judge_cache)
            print(f"judge at {size} px: {accuracy:.1%} right on held-out demo images", flush=True)
            real_features = judge_outputs(judge, extractor, real.images.astype(np.float32) / 127.5 - 1.0)[1]
            extractor = keras.Sequential([extractor, keras.layers.Rescaling(1 / real_features.std())])
            real_features = real_features / real_features.std()  # KID's kernel assumes features of unit scale
            judges[size] = (real, judge, extractor, real_features)
        rows += train_and_score(variant, *judges[size], marks, args.out)
    print("\n| variant | minutes | step | images/s | right class | classes | KID×1000 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        right = f"{row['right_class']:.0%}" if "right_class" in row else "-"
        print(f"| {row['variant']} | {row['minutes']} | {row['step']:,} | {row['img_per_s']} | {right} | "
              f"{row['classes']} | {row['kid_x1000']:.0f} |")


if __name__ == "__main__":
    main()
