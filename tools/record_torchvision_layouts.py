"""Record torchvision's state_dict layouts (key -> shape) for cnnlab's torchvision counterparts.

    python tools/record_torchvision_layouts.py --fetch   # pip download the wheel (no deps)
    python tools/record_torchvision_layouts.py           # write tests/data/torchvision_layouts/

One JSON file per model of ``cnnlab.models.pretrained.TORCHVISION_MODELS``, from torchvision's
classes built with ``weights=None`` on the meta device (no download, no memory, no weights):
``{"torchvision": version, "model": name, "state_dict": {key: shape}}`` in torchvision's key
order. tests/test_pretrained_layouts.py checks our models against these files on every run.
Run once; rerun only for a new torchvision release. Exit codes: 0 done, 1 torchvision's classes
not importable (the reason on one line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "torchvision_layouts"


def _reference():  # the tests' helper module, imported from its folder
    sys.path.insert(0, str(ROOT / "tests"))
    import torchvision_reference

    return torchvision_reference


def fetch() -> int:
    """Download the torchvision wheel without its dependencies into build/torchvision/."""
    ref = _reference()
    ref.CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(ref.CACHE)]
    cmd.append(f"torchvision=={ref.TORCHVISION_VERSION}")
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        print(f"error: pip download failed (exit {done.returncode})", file=sys.stderr)
        return 1
    print(f"stored in {ref.CACHE}")
    return 0


def layout(model: object) -> dict[str, list[int]]:
    """``{key: shape}`` of ``model.state_dict()`` in its order."""
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def record(names: list[str]) -> int:
    import torch

    from cnnlab.models.pretrained import TORCHVISION_MODELS

    ref = _reference()
    try:
        ref.torchvision_models()
    except ref.UnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unknown = sorted(set(names) - set(TORCHVISION_MODELS))
    if unknown:
        print(f"error: no torchvision counterpart for {', '.join(unknown)}", file=sys.stderr)
        return 2
    version = getattr(sys.modules["torchvision"], "__version__", "unknown")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or list(TORCHVISION_MODELS):
        with torch.device("meta"):  # shapes only: nothing allocated, nothing initialised
            model = ref.torchvision_model(name)
        data = {"torchvision": str(version), "model": name, "state_dict": layout(model)}
        rows = data["state_dict"].items()
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in rows)
        text = (
            "{\n"
            f'"torchvision": {json.dumps(data["torchvision"])},\n'
            f'"model": {json.dumps(name)},\n'
            f'"state_dict": {{\n{body}\n}}\n}}\n'
        )
        json.loads(text)  # written by hand for one key a line: prove it parses
        path = OUT / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # atomic: a half-written layout never reaches the tests
        print(f"{name}: {len(data['state_dict'])} keys -> {path.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="models to record (default: all)")
    parser.add_argument("--fetch", action="store_true", help="download the torchvision wheel")
    args = parser.parse_args(argv)
    return fetch() if args.fetch else record(args.names)


if __name__ == "__main__":
    sys.exit(main())
