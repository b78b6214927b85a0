"""Run, store and show multi-seed experiment bands.

``experiment list`` names every experiment of the course (from the manifest);
``experiment run NAME --profile quick|full --seeds N [--config C ...]`` runs each config for
seeds 0..N-1 and stores the band in ``cnnlab/experiments/results/NAME.PROFILE.json``;
``experiment show NAME [--profile P] [--json]`` prints the stored band (``--json``: the file).
"""

from __future__ import annotations

import argparse
import sys

from cnnlab.profiles import PROFILES


def configure(p: argparse.ArgumentParser) -> None:
    """Add the ``experiment`` sub-commands to ``p``."""
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the experiments")
    run = sub.add_parser("run", help="run over seeds and store the band")
    show = sub.add_parser("show", help="print a stored band")
    for q in (run, show):
        q.add_argument("name", help="an experiment (see `experiment list`)")
        q.add_argument("--profile", default="quick", choices=PROFILES)
    run.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default: its own)")
    run.add_argument("--config", action="append", help="run only this config (repeatable)")
    run.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    run.add_argument("--dry-run", action="store_true", help="run but do not store the band")
    show.add_argument("--json", action="store_true", help="print the stored file exactly")


def format_band(data: dict) -> str:
    """A table of a band file: one row per config and final metric (curves: last epoch)."""
    env = data["environment"]
    lines = [
        f"experiment {data['experiment']} (topic {data['topic']}), {data['profile']} profile: "
        f"{data['description']}",
        f"{len(data['seeds'])} seeds on {env['device']} ({env['device_name']}), "
        f"{env['threads']} thread(s), torch {env['torch']}, {data['seconds']} s, "
        f"{data['created']}",
        f"made by: {data['command']}",
        "",
        f"{'config':<22} {'metric':<18} {'median':>8} {'min':>8} {'max':>8} {'tol':>6}  values",
    ]
    for config, metrics in data["results"].items():
        for metric, entry in metrics.items():
            curve = isinstance(entry["median"], list)
            last = [v[-1] for v in entry["values"]] if curve else entry["values"]
            med, lo, hi = (entry[k][-1] if curve else entry[k] for k in ("median", "min", "max"))
            tol = data["tolerance"].get(metric, 0.0)
            name = f"{metric}[-1]" if curve else metric
            values = " ".join(f"{v:.3f}" for v in last)
            lines.append(
                f"{config:<22} {name:<18} {med:8.3f} {lo:8.3f} {hi:8.3f} {tol:6.3f}  {values}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Dispatch ``list``, ``run`` and ``show``."""
    from cnnlab.experiments import get_experiment, list_experiments, load_band, run_experiment
    from cnnlab.experiments.bands import band_path

    if args.action == "list":
        for name in list_experiments():
            e = get_experiment(name)
            print(f"{name:<24} topic {e.topic:>2}  configs: {', '.join(e.configs)}")
            print(f"{'':<24} {e.description}")
        return 0
    if args.action == "run":
        data = run_experiment(
            args.name,
            profile=args.profile,
            seeds=args.seeds,
            configs=args.config,
            threads=args.threads,
            store=not args.dry_run,
        )
        print(format_band(data))
        if not args.dry_run:
            print(f"stored: {band_path(args.name, args.profile)}")
        return 0
    get_experiment(args.name)  # an unknown name is named as such, not as a missing file
    data = load_band(args.name, args.profile)
    if args.json:
        sys.stdout.write(band_path(args.name, args.profile).read_text(encoding="utf-8"))
    else:
        print(format_band(data))
    return 0
