"""Choosing a ``tf.distribute`` strategy for a training run.

``auto`` picks, in order: ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG``
names more than one worker, ``MirroredStrategy`` when more than one GPU is
visible, else TensorFlow's default (single-device) strategy.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from gan_core.config import TrainConfig


def _cluster_workers() -> int:
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except ValueError:
        return 0
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def make_strategy(config: TrainConfig) -> tf.distribute.Strategy:
    mode = config.distribute
    if mode == "auto":
        if _cluster_workers() > 1:
            mode = "multiworker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            mode = "mirrored"
        else:
            mode = "default"
    if mode == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if mode == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run store (only one worker may)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                             and "chief" not in resolver.cluster_spec().as_dict())


def device_description() -> str:
    """A one-line description of what TensorFlow computes on, for humans."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU ({os.cpu_count()} cores)"
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return ", ".join(names)
