"""The training loop: a compiled GAN step, fed by tf.data, written to a run folder.

Reading order: ``GAN`` (networks, optimizers, the train step and its losses),
``batches`` (the input pipeline), ``Checkpointer`` (atomic save/restore),
then ``Trainer`` (the loop: log, sample, checkpoint, stop, pause) and the two
entry points ``start_run`` and ``resume_run``.

Everything random is drawn from ``(seed, step)``: the order of the images,
the latent vectors and the label noise. A run resumed from a checkpoint at
step k therefore sees exactly the batches an uninterrupted run sees after k.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_core.config import ConfigError, TrainConfig
from gan_core.data import ImageDataset, load_dataset
from gan_core.distribute import is_chief, make_strategy
from gan_core.imaging import image_grid
from gan_core.models import build_discriminator, build_generator, is_conditional
from gan_core.runs import Run, RunStore

# Streams of the per-step random draws; each kind of draw gets its own.
_ORDER, _LATENT, _NOISE, _CONTROL = 0, 1, 2, 3


def _rng(config: TrainConfig, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, stream, index])


# -- model and train step -----------------------------------------------------

def _optimizer(config: TrainConfig, learning_rate: float) -> keras.optimizers.Optimizer:
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, clipvalue=config.clipvalue)
    return keras.optimizers.Adam(learning_rate, beta_1=config.beta_1, clipvalue=config.clipvalue)


class GAN:
    """Generator, discriminator, their optimizers and one compiled train step."""

    def __init__(self, config: TrainConfig, num_classes: int, strategy: tf.distribute.Strategy):
        self.config = config
        self.strategy = strategy
        self.conditional = is_conditional(config, num_classes)
        keras.utils.set_random_seed(config.seed)  # same seed, same initial weights
        with strategy.scope():
            self.generator = build_generator(config, num_classes)
            self.discriminator = build_discriminator(config, num_classes)
            self.g_optimizer = _optimizer(config, config.lr_g)
            self.d_optimizer = _optimizer(config, config.lr_d)
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.generator_ema = self._moving_average_of(self.generator, num_classes) if config.g_ema else None
        jit = config.jit_compile
        if jit is None:  # XLA doubles a CPU's speed too, but fails for several replicas on CPU devices
            jit = strategy.num_replicas_in_sync == 1 or bool(tf.config.list_physical_devices("GPU"))
        self._step_fn = tf.function(self._replica_step, jit_compile=jit)
        self._distributed_step = tf.function(self._run_on_replicas)

    def _moving_average_of(self, generator: keras.Model, num_classes: int) -> keras.Model:
        """A copy of ``generator`` whose weights will follow its moving average (what samples are drawn from)."""
        copy = build_generator(self.config, num_classes)
        copy.set_weights(generator.get_weights())
        return copy

    def _update_moving_average(self) -> None:
        # Ramped like tf.train.ExponentialMovingAverage's num_updates, so early samples are not the random init.
        updates = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.config.g_ema, (1.0 + updates) / (10.0 + updates))
        for average, live in zip(self.generator_ema.weights, self.generator.weights, strict=True):
            # batch-norm statistics are copied: they belong to the live weights, not to an average of them
            average.assign(decay * average + (1.0 - decay) * live if average.trainable else live)

    def _g_inputs(self, z, labels):
        return [z, labels] if self.conditional else z

    def _d_inputs(self, images, labels):
        return [images, labels] if self.conditional else images

    def _loss(self, targets, logits):
        per_example = keras.losses.binary_crossentropy(targets, logits, from_logits=True)
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.config.batch_size)

    def _replica_step(self, real_uint8, labels, z_d, z_g, noise_real, noise_fake):
        real = tf.cast(real_uint8, tf.float32) / 127.5 - 1.0
        # 1. Discriminator: real images towards 1, generated towards 0 (targets softened by label noise).
        with tf.GradientTape() as tape:
            fake = self.generator(self._g_inputs(z_d, labels), training=True)
            real_logits = self.discriminator(self._d_inputs(real, labels), training=True)
            fake_logits = self.discriminator(self._d_inputs(fake, labels), training=True)
            d_loss = self._loss(1.0 - noise_real, real_logits) + self._loss(noise_fake, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables, strict=True))
        # 2. Generator: fresh samples, pushed towards what the updated D calls real.
        with tf.GradientTape() as tape:
            fake = self.generator(self._g_inputs(z_g, labels), training=True)
            fooled_logits = self.discriminator(self._d_inputs(fake, labels), training=True)
            g_loss = self._loss(tf.ones_like(fooled_logits), fooled_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables, strict=True))
        # 3. Report: losses and the mean D output on real and on fake.
        scale = tf.cast(tf.shape(real)[0], tf.float32) / self.config.batch_size
        d_real = tf.reduce_mean(tf.sigmoid(real_logits)) * scale
        d_fake = tf.reduce_mean(tf.sigmoid(fake_logits)) * scale
        return {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}

    def _run_on_replicas(self, batch):
        per_replica = self.strategy.run(self._step_fn, args=batch)
        if self.generator_ema is not None:
            self._update_moving_average()  # cross-replica context: updates every replica's copy alike
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}

    def train_step(self, batch) -> dict[str, float]:
        return {k: float(v) for k, v in self._distributed_step(batch).items()}

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Images in [-1, 1] for latent vectors (and class labels when conditional), from the moving average."""
        labels = np.zeros(len(z), np.int32) if labels is None else np.asarray(labels, np.int32)
        generator = self.generator if self.generator_ema is None else self.generator_ema
        return np.asarray(generator(self._g_inputs(z, labels), training=False))

    def variables(self) -> dict[str, list]:
        variables = {
            "generator": list(self.generator.variables),
            "discriminator": list(self.discriminator.variables),
            "g_optimizer": list(self.g_optimizer.variables),
            "d_optimizer": list(self.d_optimizer.variables),
        }
        if self.generator_ema is not None:
            variables["generator_ema"] = list(self.generator_ema.variables)
        return variables


# -- input pipeline ------------------------------------------------------------
#
# All in TensorFlow ops, no Python generator: besides keeping the GIL out of
# the loop, creating a ``Dataset.from_generator`` iterator before the first
# XLA step halved the speed of every later step on CPUs (the training loop at
# dcgan32 on 2 cores: 377 vs 727 images/s, bench/input_pipeline.py).

def _step_seed(config: TrainConfig, stream: int, index: tf.Tensor) -> tf.Tensor:
    return tf.random.experimental.stateless_fold_in(tf.constant([config.seed, stream], tf.int64), index)


def batch_for_step(images: tf.Tensor, labels: tf.Tensor, config: TrainConfig, step: tf.Tensor) -> tuple:
    """The global batch of 0-based ``step``: images by a per-epoch shuffle, latents, label noise."""
    step = tf.cast(step, tf.int64)
    count, size = tf.shape(images, out_type=tf.int64)[0], config.batch_size
    steps_per_epoch = count // size
    epoch, position = step // steps_per_epoch, step % steps_per_epoch
    order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=_step_seed(config, _ORDER, epoch))
    index = tf.sort(order[position * size:(position + 1) * size])
    latent = tf.random.stateless_normal((2, size, config.latent_dim), seed=_step_seed(config, _LATENT, step))
    noise = config.label_noise * tf.random.stateless_uniform((2, size, 1), seed=_step_seed(config, _NOISE, step))
    return tf.gather(images, index), tf.gather(labels, index), latent[0], latent[1], noise[0], noise[1]


def batches(dataset: ImageDataset, config: TrainConfig, start_step: int,
            strategy: tf.distribute.Strategy) -> Iterator:
    """Distributed batches for steps ``start_step .. config.steps - 1``.

    Each input pipeline slices its replicas' share out of the same global
    batch, so the data a step sees does not depend on the number of devices.
    """
    images, labels = tf.constant(dataset.images), tf.constant(dataset.labels, tf.int32)

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        per_replica = context.get_per_replica_batch_size(config.batch_size)
        replicas_here = context.num_replicas_in_sync // context.num_input_pipelines
        rows = replicas_here * per_replica
        first = context.input_pipeline_id * rows

        def this_pipelines_parts(step):  # (replicas_here, per_replica, ...) per tensor
            return tuple(
                tf.reshape(array[first:first + rows], (replicas_here, per_replica, *array.shape[1:]))
                for array in batch_for_step(images, labels, config, step)
            )

        steps = tf.data.Dataset.range(start_step, config.steps)
        return steps.map(this_pipelines_parts).unbatch().prefetch(tf.data.AUTOTUNE)

    return iter(strategy.distribute_datasets_from_function(dataset_fn))


# -- checkpoints -------------------------------------------------------------

class Checkpointer:
    """Checkpoints as ``step_XXXXXXXX`` folders that appear only when complete."""

    def __init__(self, gan: GAN, run: Run, keep: int, chief: bool = True):
        self.run, self.keep, self.chief = run, keep, chief
        self.checkpoint = tf.train.Checkpoint(**gan.variables())

    def save(self, step: int) -> Path:
        final = self.run.checkpoint_dir(step)
        if final.exists():
            return final
        parent = final.parent if self.chief else Path(_scratch_dir())
        tmp = parent / f".tmp-{final.name}-{time.time_ns()}"
        self.checkpoint.write(str(tmp / "ckpt"))
        if not self.chief:
            _remove_tree(tmp)
            return final
        tmp.rename(final)
        self._prune()
        return final

    def restore(self, folder: Path) -> None:
        self.checkpoint.read(str(folder / "ckpt")).assert_consumed()

    def _prune(self) -> None:
        for _, folder in self.run.checkpoints()[:-self.keep]:
            _remove_tree(folder)


def _scratch_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="synthbin-worker-ckpt-")


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# -- the loop ------------------------------------------------------------------

@dataclass(frozen=True)
class TrainEvent:
    """What the loop tells its caller. ``kind`` is one of:
    ``started``, ``step``, ``sample``, ``checkpoint``, ``paused``, ``resumed``, ``finished``,
    ``stopped``, ``diverged``, ``failed``."""

    kind: str
    step: int
    total_steps: int
    metrics: dict[str, float] | None = None
    path: Path | None = None
    message: str | None = None
    run_id: str = ""


EventCallback = Callable[[TrainEvent], None]


class TrainControl:
    """Thread-safe flags a caller sets and the loop reads between steps."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._pause = threading.Event()

    def request_stop(self) -> None:
        self._stop.set()

    def request_pause(self) -> None:
        self._pause.set()

    def request_resume(self) -> None:
        self._pause.clear()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return self._pause.is_set()


class Trainer:
    """Runs one run from its current step to ``config.steps``."""

    def __init__(self, run: Run, dataset: ImageDataset, *, on_event: EventCallback | None = None,
                 control: TrainControl | None = None):
        self.run = run
        self.config = run.config()
        self.dataset = dataset
        self.on_event = on_event or (lambda event: None)
        self.control = control or TrainControl()
        self.strategy = make_strategy(self.config)
        self.chief = is_chief(self.strategy)
        self.gan = GAN(self.config, len(dataset.class_names), self.strategy)
        self.checkpointer = Checkpointer(self.gan, run, self.config.keep_checkpoints, self.chief)
        self.control_z = _rng(self.config, _CONTROL, 0).standard_normal(
            (self.config.grid_size, self.config.latent_dim)).astype(np.float32)
        self.control_labels = np.arange(self.config.grid_size) % max(len(dataset.class_names), 1)
        self.step = 0

    def _emit(self, kind: str, **fields) -> None:
        self.on_event(TrainEvent(kind, self.step, self.config.steps, run_id=self.run.id, **fields))

    def restore_latest(self) -> int:
        """Load the newest checkpoint (if any) and return its step."""
        latest = self.run.latest_checkpoint()
        if latest is not None:
            self.step, folder = latest
            self.checkpointer.restore(folder)
        if self.chief:
            self.run.truncate_metrics(self.step)
        return self.step

    def fit(self) -> str:
        """Train until done, stopped or diverged; returns the final state."""
        return run_lockstep([self], self.control)[self.run.id]

    def begin(self) -> None:
        self._set_status("running")
        self._emit("started")
        self._feed = batches(self.dataset, self.config, self.step, self.strategy)
        self._start_time = self._last_time = time.perf_counter()

    def advance(self) -> str | None:
        """Train one step; returns the final state when the run has ended, else None."""
        if self.step >= self.config.steps:
            return self.finish("finished")
        values = self.gan.train_step(next(self._feed))
        self.step += 1
        now = time.perf_counter()
        values["images_per_sec"] = self.config.batch_size / max(now - self._last_time, 1e-9)
        values["elapsed_s"] = now - self._start_time
        self._last_time = now
        if not all(math.isfinite(values[k]) for k in ("d_loss", "g_loss")):
            message = (f"Training diverged at step {self.step}: the loss became {values['d_loss']} (D) / "
                       f"{values['g_loss']} (G). The last good checkpoint is kept; try a lower learning rate.")
            return self.finish("diverged", message, checkpoint=False)
        self._log(values)
        self._emit("step", metrics=values)
        self._periodic()
        return self.finish("finished") if self.step >= self.config.steps else None

    def enter_pause(self) -> None:
        self._checkpoint()
        self._set_status("paused")
        self._emit("paused")

    def leave_pause(self) -> None:
        self._set_status("running")
        self._emit("resumed")
        self._last_time = time.perf_counter()

    def _periodic(self) -> None:
        config = self.config
        if self.step % config.sample_every == 0 or self.step == config.steps:
            self._sample()
        if self.step % config.checkpoint_every == 0:
            self._checkpoint()

    def _log(self, values: dict[str, float]) -> None:
        if self.chief:
            self.run.append_metrics([{"step": self.step, **values}])

    def _sample(self) -> None:
        images = self.gan.generate(self.control_z, self.control_labels)
        if not self.chief:
            return
        path = self.run.sample_path(self.step)
        grid = image_grid(images, columns=math.ceil(math.sqrt(len(images))))
        tmp = path.with_name(f".{path.name}.tmp")
        grid.save(tmp, format="PNG")
        tmp.replace(path)
        self._emit("sample", path=path)

    def _checkpoint(self) -> None:
        if self.step == 0 or (self.run.latest_checkpoint() or (None,))[0] == self.step:
            return
        path = self.checkpointer.save(self.step)
        self._emit("checkpoint", path=path)

    def _set_status(self, state: str, error: str | None = None) -> None:
        if self.chief:
            self.run.set_status(state, self.step, error)

    def finish(self, state: str, message: str | None = None, checkpoint: bool = True) -> str:
        """Checkpoint (unless the weights are bad), write the final status and tell the caller."""
        if checkpoint:
            self._checkpoint()
            if self.step and not self.run.sample_path(self.step).exists():
                self._sample()
        self._set_status(state, message)
        self._emit(state, message=message)
        return state


def run_lockstep(trainers: list[Trainer], control: TrainControl) -> dict[str, str]:
    """Advance every trainer one step in turn until all have ended; returns run id -> final state.

    One trainer is the ordinary case; several give runs that are always at the
    same step (the learning-rate comparison). Pause and stop apply to all.
    """
    for trainer in trainers:
        trainer.begin()
    results: dict[str, str] = {}
    active = list(trainers)
    while active:
        if control.pause_requested and not control.stop_requested:
            for trainer in active:
                trainer.enter_pause()
            while control.pause_requested and not control.stop_requested:
                time.sleep(0.1)
            if not control.stop_requested:
                for trainer in active:
                    trainer.leave_pause()
        if control.stop_requested:
            results.update({trainer.run.id: trainer.finish("stopped") for trainer in active})
            break
        for trainer in list(active):
            state = trainer.advance()
            if state is not None:
                results[trainer.run.id] = state
                active.remove(trainer)
    return results


# -- entry points --------------------------------------------------------------

def load_training_data(config: TrainConfig, progress: Callable[[int, int], None] | None = None) -> ImageDataset:
    """The dataset a config asks for, checked against the config's batch size."""
    dataset = load_dataset(config.dataset, classes=config.classes or None, image_size=config.image_size,
                           crop=config.crop, progress=progress)
    if config.batch_size > len(dataset.images):
        raise ConfigError(
            f"Setting 'batch_size': {config.batch_size} is larger than the dataset ({len(dataset.images)} images "
            "in the chosen classes). Lower the batch size or pick more classes."
        )
    return dataset


def create_run(config: TrainConfig, store: RunStore, dataset: ImageDataset, extra: dict | None = None) -> Run:
    """A queued run folder for ``config`` on ``dataset``; ``extra`` is stored in its config.json."""
    about = {"source": dataset.source, "is_demo": dataset.is_demo, "counts": dataset.counts()}
    return store.create(config, class_names=dataset.class_names, dataset_fingerprint=dataset.fingerprint,
                        extra={"dataset": about, **(extra or {})})


def check_same_dataset(run: Run, dataset: ImageDataset) -> None:
    """Refuse to continue ``run`` on images other than those it started on."""
    recorded = run.read_record().get("dataset_fingerprint")
    if recorded and recorded != dataset.fingerprint:
        raise ConfigError(
            f"The images in '{run.config().dataset}' changed since run {run.id} started, so training it further "
            "would mix two datasets. Restore the original files, or start a new run."
        )


def train_run(run: Run, dataset: ImageDataset, *, on_event: EventCallback | None = None,
              control: TrainControl | None = None) -> str:
    """Train ``run`` from its latest checkpoint (or from scratch); returns the final state.

    Any unexpected error marks the run ``failed`` with the error text and is re-raised.
    """
    check_same_dataset(run, dataset)  # before the try: a refusal leaves the run's status as it was
    trainer = None
    try:
        trainer = Trainer(run, dataset, on_event=on_event, control=control)
        trainer.restore_latest()
        return trainer.fit()
    except Exception as error:
        step = trainer.step if trainer is not None else run.status().step
        run.set_status("failed", step, f"{type(error).__name__}: {error}")
        if on_event is not None:
            on_event(TrainEvent("failed", step, run.config().steps, message=str(error), run_id=run.id))
        raise


def start_run(config: TrainConfig, store: RunStore | None = None, *, dataset: ImageDataset | None = None,
              on_event: EventCallback | None = None, control: TrainControl | None = None) -> Run:
    """Create a run for ``config`` and train it to the end (or until stopped)."""
    store = store or RunStore()
    dataset = dataset or load_training_data(config)
    run = create_run(config, store, dataset)
    train_run(run, dataset, on_event=on_event, control=control)
    return run


def resume_run(run: Run, *, dataset: ImageDataset | None = None, on_event: EventCallback | None = None,
               control: TrainControl | None = None) -> str:
    """Continue a stopped, paused or crashed run from its last checkpoint."""
    dataset = dataset or load_training_data(run.config())
    return train_run(run, dataset, on_event=on_event, control=control)


def load_gan(run: Run, step: int | None = None) -> tuple[GAN, int]:
    """The run's networks as of checkpoint ``step`` (default: the newest) and that step."""
    checkpoints = dict(run.checkpoints())
    if not checkpoints:
        raise ConfigError(f"Run {run.id} has no checkpoint yet; train it for at least one checkpoint interval.")
    step = max(checkpoints) if step is None else step
    if step not in checkpoints:
        available = ", ".join(str(s) for s in sorted(checkpoints))
        raise ConfigError(f"Run {run.id} has no checkpoint at step {step}; available steps: {available}.")
    gan = GAN(run.config(), len(run.class_names()), tf.distribute.get_strategy())
    Checkpointer(gan, run, keep=run.config().keep_checkpoints).restore(checkpoints[step])
    return gan, step
