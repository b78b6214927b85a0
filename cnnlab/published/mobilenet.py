"""Published results of topic 13, MobileNet, as data.

From A. G. Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", arXiv:1704.04861 (2017): depthwise separable against full convolutions (Table 4),
where the cost sits by layer type (Table 2), the width multiplier α (Table 6), the resolution
multiplier ρ (Table 7), narrow against shallow (Table 5) and MobileNet against earlier networks
(Tables 8 and 9). The course notes (seed 001) name MobileNet's idea but give no numbers, so every
number here is the paper's. ImageNet accuracy is top-1 on the validation set.
"""

from __future__ import annotations

from cnnlab.published import Table

PAPER = (
    "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
    "Applications, arXiv:1704.04861 (2017)"
)
_UNITS = (("accuracy", "%"), ("mult-adds", "M"), ("parameters", "M"))
_COLUMNS = ("model", "accuracy", "mult-adds", "parameters")

CONV_VS_SEPARABLE = Table(
    name="conv_vs_separable",
    source=f"{PAPER}, Table 4",
    columns=_COLUMNS,
    rows=(("Conv MobileNet", 71.7, 4866, 29.3), ("MobileNet", 70.6, 569, 4.2)),
    units=_UNITS,
    note="ImageNet top-1; Conv MobileNet: the same body with full 3×3 convolutions",
)

LAYER_TYPES = Table(
    name="layer_types",
    source=f"{PAPER}, Table 2",
    columns=("type", "mult-adds", "parameters"),
    rows=(
        ("Conv 1×1", 94.86, 74.59),
        ("Conv DW 3×3", 3.06, 1.06),
        ("Conv 3×3", 1.19, 0.02),
        ("Fully Connected", 0.18, 24.33),
    ),
    units=(("mult-adds", "%"), ("parameters", "%")),
    note="share of MobileNet v1's (α = 1, 224×224) multiply-adds and parameters per layer type",
)

WIDTH = Table(
    name="width",
    source=f"{PAPER}, Table 6",
    columns=("alpha", *_COLUMNS[1:]),
    rows=(
        (1.0, 70.6, 569, 4.2),
        (0.75, 68.4, 325, 2.6),
        (0.5, 63.7, 149, 1.3),
        (0.25, 50.6, 41, 0.5),
    ),  # fmt: skip
    units=_UNITS,
    note="MobileNet width multiplier α at 224×224, ImageNet top-1",
)

RESOLUTION = Table(
    name="resolution",
    source=f"{PAPER}, Table 7",
    columns=("resolution", *_COLUMNS[1:]),
    rows=(
        (224, 70.6, 569, 4.2),
        (192, 69.1, 418, 4.2),
        (160, 67.2, 290, 4.2),
        (128, 64.4, 186, 4.2),
    ),  # fmt: skip
    units=_UNITS,
    note="1.0 MobileNet at input side 224ρ, ImageNet top-1",
)

NARROW_VS_SHALLOW = Table(
    name="narrow_vs_shallow",
    source=f"{PAPER}, Table 5",
    columns=_COLUMNS,
    rows=(("0.75 MobileNet", 68.4, 325, 2.6), ("Shallow MobileNet", 65.3, 307, 2.9)),
    units=_UNITS,
    note="Shallow: the five 14×14×512 separable layers removed; ImageNet top-1",
)

VERSUS = Table(
    name="versus",
    source=f"{PAPER}, Tables 8 and 9",
    columns=_COLUMNS,
    rows=(
        ("1.0 MobileNet-224", 70.6, 569, 4.2),
        ("GoogLeNet", 69.8, 1550, 6.8),
        ("VGG 16", 71.5, 15300, 138),
        ("0.50 MobileNet-160", 60.2, 76, 1.32),
        ("SqueezeNet", 57.5, 1700, 1.25),
        ("AlexNet", 57.2, 720, 60),
    ),
    units=_UNITS,
    note="ImageNet top-1 against popular models (Table 8) and smaller ones (Table 9)",
)
