"""Cost tables: parameters, multiply-adds and activation memory, layer by layer.

``summary(model, input_size)`` runs one forward pass with a hook on every leaf module and
returns a ``Summary``: ``.rows`` (one ``LayerCost`` per leaf call), ``.totals``, ``str()`` for
text, ``_repr_html_`` for a notebook table, ``.records()`` for plain dicts and
``.to_dataframe()`` when pandas is installed.

Conventions (those of the ResNet paper and torchvision's "GFLOPS")
    * Multiply-adds: one per multiplication in a convolution or linear layer (a bias add is
      not counted), i.e. output elements × fan-in; every other layer counts 0. A module may
      define ``mult_adds(x, y) -> int`` for its own count (LeNet-5's partial convolution).
      ``torch.utils.flop_counter.FlopCounterMode`` counts exactly twice this total.
    * Parameters: each parameter once, in the module that owns it; modules that did not run
      (an auxiliary head in eval mode) get a row marked "not run", so the total always equals
      ``sum(p.numel() for p in model.parameters())``.
    * Activations: the output elements of each row (for the whole batch); bytes use the output
      dtype. ``Summary.activations(types=...)`` sums chosen layer types, e.g. the convolution,
      pooling and FC outputs of the course notes' VGG-16 walk-through.
    * ``window_ops``: for pooling rows, output elements × window size (J. Johnson's "flop" for
      pooling layers in the GoogLeNet stem table); 0 elsewhere. Not part of ``mult_adds``.

The command ``python -m cnnlab models [NAME] [--input C H W]`` lists the zoo or prints one
model's table (built on the "meta" device: no memory for weights, no computation).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlab._validate import as_int

__all__ = ["LayerCost", "Summary", "Totals", "conv_mult_adds", "summary"]


@dataclass(frozen=True)
class LayerCost:
    """One leaf-module call: its name, type, shapes and costs (batch included)."""

    name: str
    type: str
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    params: int
    trainable_params: int
    mult_adds: int
    activations: int  # output elements
    activation_bytes: int
    window_ops: int = 0
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    ran: bool = True


@dataclass(frozen=True)
class Totals:
    """Whole-model totals. ``activations`` sums every row except pure element-wise/view layers
    (activation functions, dropout, flatten, identity), which frameworks usually run in place."""

    params: int
    trainable_params: int
    param_bytes: int
    mult_adds: int
    window_ops: int
    activations: int
    activation_bytes: int
    input_elements: int
    input_bytes: int


# Layers whose output need not be stored separately (in-place or views).
_NO_NEW_MEMORY = {
    "ReLU", "ReLU6", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Hardswish", "Hardsigmoid",
    "ELU", "ScaledTanh", "Dropout", "Dropout2d", "Flatten", "Identity",
}  # fmt: skip


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def _fmt_big(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f}"


def _fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def format_shape(shape: tuple[int, ...] | None) -> str:
    return "—" if shape is None else "×".join(str(s) for s in shape)


@dataclass
class Summary:
    """A model's cost table: ``rows`` (``LayerCost``), ``totals`` (``Totals``), the input."""

    rows: list[LayerCost]
    totals: Totals
    input_shape: tuple[int, ...]
    model_name: str = ""
    _columns: tuple[str, ...] = field(
        default=("Layer", "Type", "Output shape", "Params", "Mult-adds", "Activations", "Memory"),
        repr=False,
    )

    def records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (``pandas.DataFrame(summary.records())`` works)."""
        return [asdict(r) for r in self.rows]

    def to_dataframe(self) -> Any:
        """The rows as a pandas DataFrame (raises ImportError if pandas is not installed)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pandas is optional for the course
            raise ImportError(
                "to_dataframe() needs pandas, which is not installed; use summary.records() "
                "(a list of dicts) or summary.rows instead"
            ) from exc
        return pd.DataFrame(self.records())

    def select(self, types: Iterable[str]) -> list[LayerCost]:
        """The rows whose module type (class name) is in ``types``."""
        wanted = {types} if isinstance(types, str) else set(types)
        return [r for r in self.rows if r.type in wanted]

    def activations(
        self, *, types: Iterable[str] | None = None, include_input: bool = False
    ) -> int:
        """Output elements summed over rows of ``types`` (default: as ``totals``), plus the
        input's if ``include_input``."""
        rows = (
            [r for r in self.rows if r.ran and r.type not in _NO_NEW_MEMORY]
            if types is None
            else self.select(types)
        )
        total = sum(r.activations for r in rows)
        return total + (self.totals.input_elements if include_input else 0)

    def _cells(self, r: LayerCost) -> list[str]:
        if not r.ran:
            return [r.name, r.type, "not run", _fmt_int(r.params), "—", "—", "—"]
        return [
            r.name,
            r.type,
            format_shape(r.output_shape),
            _fmt_int(r.params) if r.params else "—",
            _fmt_int(r.mult_adds) if r.mult_adds else "—",
            _fmt_int(r.activations),
            _fmt_bytes(r.activation_bytes),
        ]

    def _total_lines(self) -> list[tuple[str, str]]:
        t = self.totals
        return [
            ("Input", f"{format_shape(self.input_shape)} ({_fmt_bytes(t.input_bytes)})"),
            ("Parameters", f"{_fmt_int(t.params)} ({_fmt_big(t.params)})"),
            ("Trainable parameters", _fmt_int(t.trainable_params)),
            ("Parameter memory", _fmt_bytes(t.param_bytes)),
            ("Multiply-adds", f"{_fmt_int(t.mult_adds)} ({_fmt_big(t.mult_adds)})"),
            (
                "Activations (forward)",
                f"{_fmt_int(t.activations)} ({_fmt_bytes(t.activation_bytes)})",
            ),
        ]

    def __str__(self) -> str:
        body = [self._cells(r) for r in self.rows]
        widths = [
            max(len(h), *(len(row[i]) for row in body)) if body else len(h)
            for i, h in enumerate(self._columns)
        ]
        right = {3, 4, 5, 6}

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        title = [f"{self.model_name}"] if self.model_name else []
        out = [*title, line(self._columns), rule, *(line(c) for c in body), rule]
        label_w = max(len(k) for k, _ in self._total_lines())
        out += [f"{k.ljust(label_w)}  {v}" for k, v in self._total_lines()]
        return "\n".join(out)

    def __repr__(self) -> str:
        t = self.totals
        name = f"{self.model_name!r}, " if self.model_name else ""
        return (
            f"Summary({name}{len(self.rows)} rows, params={t.params:,}, "
            f"mult_adds={t.mult_adds:,}, input={self.input_shape})"
        )

    def _repr_html_(self) -> str:
        right = {3, 4, 5, 6}
        style = "text-align:right"
        head = "".join(
            f'<th style="{style if i in right else "text-align:left"}">{html.escape(h)}</th>'
            for i, h in enumerate(self._columns)
        )
        rows = []
        for r in self.rows:
            cells = "".join(
                f'<td style="{style if i in right else "text-align:left"}">{html.escape(c)}</td>'
                for i, c in enumerate(self._cells(r))
            )
            rows.append(f"<tr>{cells}</tr>")
        n = len(self._columns)
        foot = "".join(
            f'<tr><th style="text-align:left">{html.escape(k)}</th>'
            f'<td colspan="{n - 1}" style="text-align:left">{html.escape(v)}</td></tr>'
            for k, v in self._total_lines()
        )
        caption = f"<caption>{html.escape(self.model_name)}</caption>" if self.model_name else ""
        return (
            f'<table class="cnnlab-summary">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table>"
        )


# ----------------------------------------------------------------------------------------------


def conv_mult_adds(
    h_out: int, w_out: int, c_in: int, c_out: int, kernel: int | tuple[int, int], *, groups: int = 1
) -> int:
    """Multiply-adds of one convolution for one image: ``h_out·w_out·c_out · (c_in/groups)·k·k``.

    E.g. 28×28×192 -> 28×28×32 with 5×5 kernels: ``conv_mult_adds(28, 28, 192, 32, 5)`` =
    120,422,400 (≈ 120 M); with a 16-map 1×1 reduction first, ``conv_mult_adds(28, 28, 192, 16,
    1) + conv_mult_adds(28, 28, 16, 32, 5)`` = 12,443,648 (≈ 12.4 M).
    """
    h_out = as_int(h_out, "h_out", minimum=1)
    w_out = as_int(w_out, "w_out", minimum=1)
    c_in = as_int(c_in, "c_in", minimum=1)
    c_out = as_int(c_out, "c_out", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    if isinstance(kernel, Sequence) and not isinstance(kernel, str):
        if len(kernel) != 2:
            raise ValueError(f"kernel must be an int or a pair (kh, kw), got {kernel!r}")
        kh, kw = (as_int(k, "kernel", minimum=1) for k in kernel)
    else:
        kh = kw = as_int(kernel, "kernel", minimum=1)
    return h_out * w_out * c_out * (c_in // groups) * kh * kw


def _layer_mult_adds(module: nn.Module, x: object, y: torch.Tensor) -> int:
    custom = getattr(module, "mult_adds", None)
    if callable(custom):
        return int(custom(x, y))
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        fan_in = module.in_channels // module.groups * math.prod(module.kernel_size)
        return y.numel() * fan_in
    if isinstance(module, nn.Linear):
        return y.numel() * module.in_features
    return 0


def _window_ops(module: nn.Module, y: torch.Tensor) -> int:
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = module.kernel_size
        kh, kw = (k, k) if isinstance(k, int) else k
        return y.numel() * kh * kw
    return 0


def _geometry(module: nn.Module, attr: str) -> tuple[int, ...] | None:
    value = getattr(module, attr, None)
    if value is None or isinstance(value, str) or not isinstance(module, _GEOMETRY_TYPES):
        return None
    return tuple(value) if isinstance(value, Sequence) else (int(value), int(value))


_GEOMETRY_TYPES = (nn.modules.conv._ConvNd, nn.MaxPool2d, nn.AvgPool2d)


def _first_tensor(obj: object) -> torch.Tensor | None:
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (tuple, list)):
        for item in obj:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


def _tensors(obj: object) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _tensors(item)]
    return []


def _parse_input_size(
    input_size: Sequence[int], batch_size: int | None
) -> tuple[int, int, int, int]:
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise TypeError(f"input_size must be (C, H, W) or (N, C, H, W), got {input_size!r}")
    dims = [as_int(d, "input_size entry", minimum=1) for d in input_size]
    if len(dims) == 3:
        n = 1 if batch_size is None else as_int(batch_size, "batch_size", minimum=1)
        return (n, *dims)  # type: ignore[return-value]
    if len(dims) == 4:
        if batch_size is not None and as_int(batch_size, "batch_size", minimum=1) != dims[0]:
            raise ValueError(
                f"batch_size={batch_size} disagrees with input_size {tuple(input_size)}; give "
                "the batch in one place"
            )
        return tuple(dims)  # type: ignore[return-value]
    raise ValueError(f"input_size must be (C, H, W) or (N, C, H, W), got {tuple(input_size)}")


def _parse_device(device: object) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError:  # torch lists every backend it was ever built for
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'meta', got {device!r}"
        ) from None


def _model_device(model: nn.Module) -> torch.device:
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


def summary(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    dtype: torch.dtype = torch.float32,
    name: str = "",
) -> Summary:
    """The cost table of ``model`` for one forward pass on a zero input of ``input_size``.

    ``input_size`` is (C, H, W) (with ``batch_size``, default 1) or (N, C, H, W). ``device``
    defaults to the model's; a model built under ``with torch.device("meta"):`` costs no memory
    and no time. The model runs in eval mode under ``torch.no_grad()`` and gets its mode back.
    An input the model cannot take raises a ``ValueError`` naming the failing layer
    (``cnnlab.train.InputShapeError`` for models without cnnlab's input checks).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _parse_input_size(input_size, batch_size)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}"
        )
    model_device = _model_device(model)
    device = model_device if device is None else _parse_device(device)
    if device != model_device and not (device.type == model_device.type == "cuda"):
        raise ValueError(
            f"the model is on {model_device} but device={str(device)!r}: move the model first "
            "(or build it under `with torch.device('meta'):` for a free summary)"
        )

    records: list[dict[str, Any]] = []
    seen_params: set[int] = set()
    called: set[str] = set()
    handles = []

    def own_params(module: nn.Module) -> tuple[int, int]:
        total = trainable = 0
        for p in module.parameters(recurse=False):
            if id(p) not in seen_params:
                seen_params.add(id(p))
                total += p.numel()
                trainable += p.numel() if p.requires_grad else 0
        return total, trainable

    def make_hook(qualname: str) -> Any:
        def hook(module: nn.Module, args: tuple[object, ...], output: object) -> None:
            called.add(qualname)
            y = _first_tensor(output)
            x = _first_tensor(args)
            params, trainable = own_params(module)
            outs = _tensors(output)
            elements = sum(t.numel() for t in outs)
            records.append(
                {
                    "name": qualname or "(model)",
                    "type": type(module).__name__,
                    "input_shape": None if x is None else tuple(x.shape),
                    "output_shape": None if y is None else tuple(y.shape),
                    "params": params,
                    "trainable_params": trainable,
                    "mult_adds": 0 if y is None else _layer_mult_adds(module, args[0], y),
                    "activations": elements,
                    "activation_bytes": sum(t.numel() * t.element_size() for t in outs),
                    "window_ops": 0 if y is None else _window_ops(module, y),
                    "kernel": _geometry(module, "kernel_size"),
                    "stride": _geometry(module, "stride"),
                    "padding": _geometry(module, "padding"),
                }
            )

        return hook

    tracked = {
        qualname: module
        for qualname, module in model.named_modules()
        if not any(True for _ in module.children()) or any(True for _ in module.parameters(False))
    }
    was_training = model.training
    try:
        for qualname, module in tracked.items():
            handles.append(module.register_forward_hook(make_hook(qualname)))
        x = torch.zeros(shape, device=device, dtype=dtype)
        model.eval()
        with torch.no_grad():
            try:
                model(x)
            except (RuntimeError, IndexError) as exc:  # torch's own words for a shape mismatch
                from cnnlab.train.inputs import describe_forward_failure

                raise describe_forward_failure(model, x, exc, name or type(model).__name__) from exc
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    rows = [LayerCost(**r) for r in records]
    for qualname, module in tracked.items():  # parameters of modules that did not run
        if qualname not in called:
            params, trainable = own_params(module)
            if params:
                rows.append(
                    LayerCost(
                        qualname, type(module).__name__, None, None, params, trainable,
                        0, 0, 0, ran=False,
                    )
                )  # fmt: skip
    element = torch.empty((), dtype=dtype).element_size()
    all_params = {id(p): p for p in model.parameters()}
    kept = [r for r in rows if r.ran and r.type not in _NO_NEW_MEMORY]
    totals = Totals(
        params=sum(r.params for r in rows),
        trainable_params=sum(r.trainable_params for r in rows),
        param_bytes=sum(p.numel() * p.element_size() for p in all_params.values()),
        mult_adds=sum(r.mult_adds for r in rows),
        window_ops=sum(r.window_ops for r in rows),
        activations=sum(r.activations for r in kept),
        activation_bytes=sum(r.activation_bytes for r in kept),
        input_elements=math.prod(shape),
        input_bytes=math.prod(shape) * element,
    )
    return Summary(rows=rows, totals=totals, input_shape=shape, model_name=name)
