"""The checks package: names resolved lazily from the course manifest, a core without topic
knowledge, topic modules that import only the core, and the core's calling, forbidding and
comparing machinery."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnlab.checks as checks
from cnnlab.checks import _core, _module
from cnnlab.checks._core import CheckFailed, ForbiddenCall, call_student, compare, forbid
from cnnlab.course.manifest import topics

PACKAGE = Path(checks.__file__).parent
TOPIC_MODULES = {t.checks: t for t in topics(built=True)}
EXPECTED = {
    "cnnlab.checks.cross_correlation": {
        "corr2d",
        "corr2d_multi_in",
        "corr2d_multi_in_out",
        "conv1x1",
    },
    "cnnlab.checks.padding_stride": {"conv_output_size", "conv_params", "receptive_field"},
    "cnnlab.checks.pooling": {"pool2d", "global_avg_pool"},
    "cnnlab.checks.filter_visualisation": {"capture_activations", "saliency"},
}


# --------------------------------------------------------------------------------------------
# the package


def test_every_built_topic_has_its_checks_module_listing_exactly_its_checks() -> None:
    for dotted, names in EXPECTED.items():
        assert dotted in TOPIC_MODULES
        module = importlib.import_module(dotted)
        assert set(module.__all__) == names and len(module.__all__) == len(names)
        public = {
            k
            for k, v in vars(module).items()
            if callable(v) and not k.startswith("_") and getattr(v, "__module__", "") == dotted
        }
        assert public == names, "every public function of a topic module is a check"


def test_the_package_exports_the_manifest_topics_checks() -> None:
    # every built topic's checks (from the manifest), not a list kept here
    per_topic = [
        set(importlib.import_module(t.checks).__all__)
        for t in topics(built=True)
        if importlib.util.find_spec(t.checks) is not None
    ]
    expected = {"CheckFailed", "module_matches"}.union(*per_topic)
    assert set().union(*EXPECTED.values()) <= expected
    assert set(checks.__all__) == expected
    assert set(checks.__all__) <= set(dir(checks))
    assert not [name for name in dir(checks) if name in {"Any", "importlib"}]
    for dotted, names in EXPECTED.items():
        module = importlib.import_module(dotted)
        for name in names:
            assert getattr(checks, name) is getattr(module, name)
    assert checks.CheckFailed is _core.CheckFailed and issubclass(CheckFailed, AssertionError)
    assert checks.module_matches is _module.module_matches
    with pytest.raises(AttributeError, match="has no attribute 'corr3d'"):
        checks.corr3d  # noqa: B018
    # no check is named like a topic module (the submodule attribute would hide it)
    assert not {t.slug for t in topics()} & set(checks.__all__)


def test_importing_the_package_imports_nothing_heavy_and_has_no_side_effects() -> None:
    code = (
        "import sys, cnnlab.checks as c\n"
        "heavy = [m for m in ('torch', 'numpy', 'cnnlab.course.manifest') if m in sys.modules]\n"
        "print(heavy)\n"
        "import torch\n"
        "torch.manual_seed(5); a = torch.rand(1)\n"
        "torch.manual_seed(5); c.corr2d; b = torch.rand(1)\n"
        "print(bool(a == b))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["[]", "True"]


def test_topic_modules_import_only_public_names_of_the_core() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnlab.checks"):
                assert path.stem not in ("_core", "__init__"), f"{path.name} imports checks"
                # topic modules and the module harness build on the core, and on nothing else
                allowed = ("cnnlab.checks._core", "cnnlab.checks._module")
                assert node.module in allowed, f"{path.name}: {node.module}"
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private names {private}"
                assert not [a for a in node.names if a.name == "*"]
            if isinstance(node, ast.Import):
                assert not [a for a in node.names if a.name.startswith("cnnlab.checks")]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert not (node.value.id == "_core" and node.attr.startswith("_"))
    assert not (PACKAGE.parent / "checks.py").exists()
    assert not (PACKAGE.parent / "_checks_features.py").exists()


def test_core_knows_no_topic() -> None:
    source = (PACKAGE / "_core.py").read_text(encoding="utf-8")
    for names in EXPECTED.values():
        for name in names:
            assert f"def {name}(" not in source


# --------------------------------------------------------------------------------------------
# forbid


def test_forbid_blocks_and_restores_even_on_keyboard_interrupt() -> None:
    original = F.conv2d
    with pytest.raises(KeyboardInterrupt), forbid(["torch.nn.functional.conv2d"]):
        with pytest.raises(ForbiddenCall, match="torch.nn.functional.conv2d"):
            F.conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1))
        raise KeyboardInterrupt
    assert F.conv2d is original

    def student(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call_student("corr2d", student, (torch.zeros(2, 2),) * 2, "x", forbidden=["torch.conv2d"])
    assert torch.conv2d is original and F.conv2d is original


def test_forbid_restores_classes_and_skips_unknown_or_unloaded_paths() -> None:
    own = vars(nn.Conv2d)["forward"]
    with (
        forbid(
            ["torch.nn.Conv2d.forward", "torch.nn.LazyConv2d.forward", "torch.nope", "scipy_x.y"]
        ) as calls,
        pytest.raises(ForbiddenCall),
    ):
        nn.Conv2d(1, 1, 1)(torch.zeros(1, 1, 2, 2))
    assert calls == ["torch.nn.Conv2d"]
    assert vars(nn.Conv2d)["forward"] is own and "forward" not in vars(nn.LazyConv2d)


def test_forbidden_operators_are_blocked_however_they_are_reached() -> None:
    """``aten::NAME`` blocks the operator below every Python name: torch.ops.aten, the C
    bindings and an alias captured in a default argument (which no renaming can find)."""
    x = torch.randn(2, 3, 4, 4)

    def captured(x: torch.Tensor, bn: object = F.batch_norm) -> torch.Tensor:
        return bn(x, None, None, training=True)  # type: ignore[operator]

    routes = {
        "torch.ops.aten": lambda: torch.ops.aten.native_batch_norm(
            x, None, None, None, None, True, 0.1, 1e-5
        ),
        "C binding": lambda: torch._C._VariableFunctions.batch_norm(
            x, None, None, None, None, True, 0.1, 1e-5, False
        ),
        "captured alias": lambda: captured(x),
        "layer": lambda: nn.BatchNorm2d(3)(x),
    }
    for route, call in routes.items():
        with forbid(["aten::native_batch_norm"]) as calls, pytest.raises(ForbiddenCall):
            call()
        assert calls == ["aten::native_batch_norm"], route
    # outside the block, and for other operators inside it, everything runs as before
    with forbid(["aten::native_batch_norm"]) as calls:
        y = (x - x.mean(dim=(0, 2, 3), keepdim=True)).relu()
    assert calls == [] and torch.equal(y, (x - x.mean(dim=(0, 2, 3), keepdim=True)).relu())
    assert captured(x).shape == x.shape


def test_a_swallowed_operator_block_is_still_reported() -> None:
    def student(x: torch.Tensor) -> torch.Tensor:
        try:
            return torch.ops.aten.avg_pool2d(x, [2, 2])
        except Exception:  # hides the block: the recorded call still fails the answer
            return x.reshape(1, 1, 2, 2, 2, 2).mean(dim=(3, 5))

    with pytest.raises(CheckFailed, match=r"calls aten::avg_pool2d.*sum the blocks"):
        call_student(
            "f", student, (torch.ones(1, 1, 4, 4),), "x", forbidden=["aten::avg_pool2d"],
            instead="sum the blocks",
        )  # fmt: skip


def test_the_reference_runs_outside_the_block() -> None:
    seen = []

    def student(X: torch.Tensor) -> torch.Tensor:
        seen.append(F.conv2d is torch.conv2d)
        return X

    call_student("f", student, (torch.zeros(1),), "x", forbidden=["torch.nn.functional.conv2d"])
    assert seen == [False]
    assert F.conv2d(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1)).item() == 1


# --------------------------------------------------------------------------------------------
# answers and comparisons


def test_as_tensor_and_as_int_check_the_type() -> None:
    with pytest.raises(CheckFailed, match="returned a NumPy array"):
        _core.as_tensor("f", np.zeros(2), "x")
    with pytest.raises(CheckFailed, match="complex tensor"):
        _core.as_tensor("f", torch.zeros(2, dtype=torch.complex64), "x")
    assert _core.as_int("f", np.int32(3), "x", "a size") == 3
    assert _core.as_int("f", 2.5, "x", "a size") == 2.5
    with pytest.raises(CheckFailed, match="returned the float 3.0"):
        _core.as_int("f", 3.0, "x", "a size")


def test_compare_names_dtype_and_shape() -> None:
    expected = torch.tensor([1.5, 2.25], dtype=torch.float64)
    compare("f", expected.clone(), expected, "x")
    with pytest.raises(CheckFailed, match=r"expected dtype torch.float64 \(the input's dtype\)"):
        compare("f", expected.float(), expected, "x")
    with pytest.raises(CheckFailed, match=r"expected output of shape \(2,\), got \(1, 2\)"):
        compare("f", expected[None], expected, "x")
    with pytest.raises(CheckFailed, match="whole numbers only"):
        compare("f", expected.trunc(), expected, "x")
    with pytest.raises(CheckFailed, match="Hint: mine") as info:
        compare("f", expected * 2, expected, "x", wrong_answers=[(expected * 2, "mine")])
    assert info.value.args[0].count("Hint:") == 1


def test_round_off_tolerance_is_float64_relative_to_the_scale() -> None:
    expected = torch.tensor([1.0, 0.0], dtype=torch.float64)
    compare("f", expected + 1e-13, expected, "x")
    with pytest.raises(CheckFailed, match="float32 round-off"):
        compare("f", expected * (1 + 1e-8), expected, "x")
    # a value that cancels to ~0 is judged against the size of its terms
    compare("f", expected + 1e-11, expected, "x", scale=torch.tensor([100.0, 100.0]))
