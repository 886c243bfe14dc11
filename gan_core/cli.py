"""``python -m gan_core``: everything the dashboard does, headless.

Examples::

    python -m gan_core dataset inspect demo
    python -m gan_core dataset inspect ~/garbage.zip --classes battery,metal --json
    python -m gan_core train --dataset demo --classes battery,shoes --preset dcgan32 --steps 500
    python -m gan_core sweep --lr 1e-4,2e-4 --classes battery,shoes --steps 1000
    python -m gan_core resume runs/20261204-101500-dcgan32-ab12
    python -m gan_core runs list
    python -m gan_core generate 20261204-101500-dcgan32-ab12 --per-class 500 --seed 1 --out synthetic.zip
    python -m gan_core evaluate 20261204-101500-dcgan32-ab12 --metrics fid,kid --num-samples 2048
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

from gan_core.config import PRESETS, ConfigError, make_config
from gan_core.paths import runs_dir


class UserError(Exception):
    """A mistake the user can fix; shown as one clean line, exit code 2."""


def _split_classes(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else ()


# -- dataset -----------------------------------------------------------------

def _format_stats(stats: dict) -> str:
    return f"{stats['min']}–{stats['max']} (median {stats['median']})"


def cmd_dataset_inspect(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_core.data import load_dataset

    with tqdm(desc="Reading images", unit="img", disable=args.json, leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        dataset = load_dataset(args.source, classes=_split_classes(args.classes) or None,
                               image_size=args.size, crop=args.crop, progress=progress)
    summary = dataset.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    kind = " (procedurally drawn demo images, not photographs)" if dataset.is_demo else ""
    print(f"Dataset: {summary['source']}{kind}")
    print(f"{summary['total']} usable images in {len(summary['classes'])} classes"
          f"{' (from cache)' if dataset.from_cache else ''}:")
    width = max(len(name) for name in summary["classes"])
    for name, count in summary["classes"].items():
        print(f"  {name:<{width}}  {count:>6}")
    sizes = summary.get("size_stats", {})
    if "width" in sizes:
        print(f"Original sizes: width {_format_stats(sizes['width'])}, height {_format_stats(sizes['height'])} px")
    for name in summary.get("empty_classes", []):
        print(f"Class folder with no usable image (left out): {name}")
    skipped = summary["skipped"]
    print(f"Skipped files: {len(skipped)}")
    for item in skipped:
        print(f"  {item['path']}: {item['reason']}")
    return 0


# -- training ----------------------------------------------------------------

class _ProgressPrinter:
    """Turns trainer events into a tqdm bar with losses, images/s and ETA."""

    def __init__(self, total: int, initial: int):
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)

    def __call__(self, event) -> None:
        if event.kind == "step" and event.metrics:
            m = event.metrics
            self.bar.set_postfix(d=f"{m['d_loss']:.3f}", g=f"{m['g_loss']:.3f}",
                                 img_s=f"{m['images_per_sec']:.0f}", refresh=False)
            self.bar.update(event.step - self.bar.n)
        elif event.kind in ("paused", "stopped", "diverged", "finished", "failed"):
            self.bar.close()
            if event.message:
                print(event.message, file=sys.stderr)


def _stop_on_interrupt(control) -> None:
    def handler(signum, frame):
        print("\nStopping after the current step (saving a checkpoint)…", file=sys.stderr)
        control.request_stop()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _config_from_args(args: argparse.Namespace):
    return make_config(
        args.preset, lr=args.lr, lr_g=args.lr_g, lr_d=args.lr_d, dataset=args.dataset,
        classes=_split_classes(args.classes), crop=args.crop, image_size=args.image_size,
        latent_dim=args.latent_dim, batch_size=args.batch_size, steps=args.steps, optimizer=args.optimizer,
        conditional=args.conditional, seed=args.seed, sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every, distribute=args.distribute,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from gan_core.runs import RunStore
    from gan_core.trainer import TrainControl, create_run, load_training_data, train_run

    config = _config_from_args(args)
    if args.dry_run:
        print(config.to_json())
        return 0
    dataset = load_training_data(config)
    run = create_run(config, RunStore(args.runs_dir), dataset)
    print(f"Run folder: {run.path}")
    control = TrainControl()
    _stop_on_interrupt(control)
    state = train_run(run, dataset, on_event=_ProgressPrinter(config.steps, 0), control=control)
    print(f"Run {run.id} {state} at step {run.status().step}. Folder: {run.path}")
    return 0 if state in ("finished", "stopped") else 1


def cmd_resume(args: argparse.Namespace) -> int:
    from gan_core.runs import RunStore
    from gan_core.trainer import TrainControl, resume_run

    run = RunStore(args.runs_dir).get(args.run)
    status = run.status()
    if status.state == "running":
        raise UserError(f"Run {run.id} is running in another process; stop it there first.")
    latest = run.latest_checkpoint()
    start = latest[0] if latest else 0
    print(f"Resuming {run.id} from step {start}. Folder: {run.path}")
    control = TrainControl()
    _stop_on_interrupt(control)
    state = resume_run(run, on_event=_ProgressPrinter(run.config().steps, start), control=control)
    print(f"Run {run.id} {state} at step {run.status().step}.")
    return 0 if state in ("finished", "stopped") else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    from gan_core.compare import comparison_table, create_group, parse_learning_rates, train_group, verdict
    from gan_core.runs import RunStore
    from gan_core.trainer import TrainControl, load_training_data

    rates = parse_learning_rates(args.learning_rates)
    config = _config_from_args(args)
    dataset = load_training_data(config)
    runs = create_group(config, rates, RunStore(args.runs_dir), dataset)
    for run in runs:
        print(f"lr {run.config().lr_g:g}: {run.path}")
    control = TrainControl()
    _stop_on_interrupt(control)
    printer = _ProgressPrinter(config.steps, 0)
    lead = runs[0].id
    train_group(runs, dataset, control=control,
                on_event=lambda event: printer(event) if event.run_id == lead else None)
    table = comparison_table(runs)
    columns = ["lr_g", "step", "state", "d_loss", "g_loss", "d_real", "d_fake", "g_stability"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(verdict(table))
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    from gan_core.runs import RunStore

    summaries = RunStore(args.runs_dir).summaries()
    if args.json:
        rows = [{"id": s.id, "state": s.status.state, "step": s.status.step, "steps": s.steps,
                 "preset": s.preset, "classes": list(s.classes), "lr_g": s.lr_g, "lr_d": s.lr_d,
                 "d_loss": s.last_d_loss, "g_loss": s.last_g_loss, "error": s.status.error,
                 "path": str(s.path)} for s in summaries]
        print(json.dumps(rows, indent=2))
        return 0
    if not summaries:
        print(f"No runs in {args.runs_dir}.")
        return 0
    for s in summaries:
        losses = "" if s.last_d_loss is None else f"  D {s.last_d_loss:.3f}  G {s.last_g_loss:.3f}"
        print(f"{s.id}  {s.status.state:<9} {s.status.step:>6}/{s.steps:<6} {s.preset:<9} lr {s.lr_g:g}{losses}")
        if s.status.error:
            print(f"    {s.status.error}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_core.export import ExportOptions, LoadedCheckpoint, export_zip, plan
    from gan_core.runs import RunStore

    run = RunStore(args.runs_dir).get(args.run)
    options = ExportOptions(count=args.per_class, classes=_split_classes(",".join(args.classes or ())),
                            seed=args.seed, truncation=args.truncation, size=args.upscale, augmented=args.augmented)
    plan(run, options)  # bad settings fail before the networks load
    checkpoint = LoadedCheckpoint(run, args.checkpoint)
    with tqdm(unit="img", dynamic_ncols=True, desc=f"step {checkpoint.step}") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = export_zip(checkpoint, args.out, options, progress=progress)
    real = f" and {result.real} real" if options.augmented else ""
    print(f"Wrote {result.synthetic} synthetic{real} images ({result.bytes / 2**20:.1f} MB) to {result.path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_core.evaluation import evaluate_run, format_evaluation
    from gan_core.features import InceptionWeightsError
    from gan_core.metrics import UnknownMetric, parse_metric_names
    from gan_core.runs import RunStore

    try:
        metrics = parse_metric_names(args.metrics)
    except UnknownMetric as error:
        raise UserError(str(error)) from None
    run = RunStore(args.runs_dir).get(args.run)
    with tqdm(unit="img", dynamic_ncols=True, disable=args.json, leave=False) as bar:
        def progress(stage: str, done: int, total: int) -> None:
            bar.set_description_str(stage, refresh=False)
            bar.total = total or None
            bar.update(done - bar.n)

        try:
            evaluation = evaluate_run(run, metrics=metrics, num_samples=args.num_samples, step=args.checkpoint,
                                      weights=args.inception_weights, progress=progress)
        except InceptionWeightsError as error:
            raise UserError(str(error)) from None
    print(json.dumps(evaluation.to_dict(), indent=2) if args.json else format_evaluation(evaluation))
    return 0


# -- parser ------------------------------------------------------------------

def _add_train_options(parser: argparse.ArgumentParser, learning_rate: bool = True) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="demo", help="'demo', a folder of class subfolders, or a .zip of one")
    data.add_argument("--classes", help="comma-separated class names (default: all)")
    data.add_argument("--crop", choices=("center", "pad"), default="center")
    model = parser.add_argument_group("model")
    model.add_argument("--preset", default="dcgan32", choices=list(PRESETS))
    model.add_argument("--image-size", type=int, help="32, 64 or 128 where the preset allows")
    model.add_argument("--latent-dim", type=int)
    model.add_argument("--conditional", action=argparse.BooleanOptionalAction,
                       help="feed class labels to G and D (default: on, except for the paper preset)")
    opt = parser.add_argument_group("optimisation")
    if learning_rate:
        opt.add_argument("--lr", type=float, help="learning rate for both networks")
        opt.add_argument("--lr-g", type=float, help="generator learning rate (overrides --lr)")
        opt.add_argument("--lr-d", type=float, help="discriminator learning rate (overrides --lr)")
    opt.add_argument("--optimizer", choices=("adam", "rmsprop"))
    opt.add_argument("--batch-size", type=int)
    opt.add_argument("--steps", type=int, default=2000)
    opt.add_argument("--seed", type=int, default=0)
    out = parser.add_argument_group("output")
    out.add_argument("--sample-every", type=int, default=50)
    out.add_argument("--checkpoint-every", type=int, default=250)
    out.add_argument("--distribute", choices=("auto", "default", "mirrored", "multiworker"), default="auto")
    out.add_argument("--dry-run", action="store_true", help="print the resolved settings and exit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--runs-dir", default=str(runs_dir()), help="run store root (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    dataset = commands.add_parser("dataset", help="look at a dataset").add_subparsers(dest="action", required=True)
    inspect = dataset.add_parser("inspect", help="per-class counts, image sizes and skipped files")
    inspect.add_argument("source", help="'demo', a folder or a .zip")
    inspect.add_argument("--classes", help="comma-separated class names (default: all)")
    inspect.add_argument("--size", type=int, default=64, help="preprocessing size in px (default 64)")
    inspect.add_argument("--crop", choices=("center", "pad"), default="center")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_dataset_inspect)

    train = commands.add_parser("train", parents=[store], help="train a GAN and write a run folder")
    _add_train_options(train)
    train.set_defaults(handler=cmd_train)

    sweep = commands.add_parser("sweep", parents=[store],
                                help="train one run per learning rate in lockstep and compare them")
    sweep.add_argument("--lr", dest="learning_rates", default="1e-4,2e-4",
                       help="2 to 6 comma-separated learning rates (default: %(default)s)")
    _add_train_options(sweep, learning_rate=False)
    sweep.set_defaults(handler=cmd_sweep, lr=None, lr_g=None, lr_d=None)

    resume = commands.add_parser("resume", parents=[store], help="continue a run from its last checkpoint")
    resume.add_argument("run", help="run id or folder")
    resume.set_defaults(handler=cmd_resume)

    runs = commands.add_parser("runs", help="the run store").add_subparsers(dest="action", required=True)
    listing = runs.add_parser("list", parents=[store], help="every run with its state and last losses")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_runs_list)

    generate = commands.add_parser("generate", parents=[store], help="synthetic images of a run as a class-folder zip")
    generate.add_argument("run", help="run id or folder")
    generate.add_argument("--per-class", type=int, required=True, metavar="N",
                          help="images per class (conditional runs) or in total (unconditional runs)")
    generate.add_argument("--classes", nargs="+", action="extend", help="class names, comma- or space-separated")
    generate.add_argument("--checkpoint", type=int, metavar="STEP", help="checkpoint step (default: the newest)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--truncation", type=float, metavar="T", help="resample latent components with |z| > T")
    generate.add_argument("--upscale", type=int, metavar="PX", help="output size in px (LANCZOS; adds no detail)")
    generate.add_argument("--augmented", action="store_true", help="also include the real images of the classes")
    generate.add_argument("--out", required=True, metavar="FILE.zip")
    generate.set_defaults(handler=cmd_generate)

    evaluate = commands.add_parser("evaluate", parents=[store], help="IS, FID and KID of a checkpoint")
    evaluate.add_argument("run", help="run id or folder")
    evaluate.add_argument("--metrics", default="is,fid,kid", help="comma-separated (default: %(default)s)")
    evaluate.add_argument("--num-samples", type=int, default=2048, metavar="N",
                          help="generated images, and real ones when there are that many (default: %(default)s)")
    evaluate.add_argument("--checkpoint", type=int, metavar="STEP", help="checkpoint step (default: the newest)")
    evaluate.add_argument("--inception-weights", metavar="PATH",
                          help="a Keras InceptionV3 .h5/.weights.h5 with the top (default: the Keras cache)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from gan_core.data import DatasetError
    from gan_core.runs import RunNotFound

    try:
        return args.handler(args)
    except (UserError, ConfigError, DatasetError, RunNotFound) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
