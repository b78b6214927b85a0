"""Published results of topic 9, GoogLeNet / Inception, as data.

From the course notes: seed 000 ("network structures", GoogLeNet section) reproduces Table 1 of
Szegedy et al. (2015), the layer table with its ``params`` and ``ops`` columns, and the
ILSVRC 2012 validation errors of the later Inception networks (Szegedy et al. 2017, Tables 2
and 5); seed 001 (CS60010, "CNN architectures", after J. Johnson) gives the stem table
(memory, parameters, MFLOP per layer and the totals against VGG-16) and the 1×1-reduction
example. The weight of the auxiliary losses is from the paper itself (Section 5).
"""

from __future__ import annotations

from cnnlab.published import Table

PAPER = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv:1409.4842)"
V4_PAPER = (
    "Szegedy, Ioffe, Vanhoucke, Alemi, Inception-v4, Inception-ResNet and the Impact of "
    "Residual Connections on Learning, AAAI 2017 (arXiv:1602.07261)"
)
NOTES_000 = "course notes, network structures (seed 000): GoogLeNet, Parameters"
NOTES_001 = "course notes, CS60010 CNN architectures (seed 001), after J. Johnson"

LAYERS = Table(
    name="layers",
    source=f"{PAPER}, Table 1 (as reproduced in the {NOTES_000})",
    columns=("layer", "output", "params", "ops"),
    rows=(
        ("conv 7×7/2", "112×112×64", 2.7, 34),
        ("conv 3×3/1", "56×56×192", 112, 360),
        ("inception 3a", "28×28×256", 159, 128),
        ("inception 3b", "28×28×480", 380, 304),
        ("inception 4a", "14×14×512", 364, 73),
        ("inception 4b", "14×14×512", 437, 88),
        ("inception 4c", "14×14×512", 463, 100),
        ("inception 4d", "14×14×528", 580, 119),
        ("inception 4e", "14×14×832", 840, 170),
        ("inception 5a", "7×7×832", 1072, 54),
        ("inception 5b", "7×7×1024", 1388, 71),
        ("linear", "1×1×1000", 1000, 1),
    ),
    units=(("params", "K"), ("ops", "M")),
    note="rows with weights only (pools have none); conv 3×3/1 includes its 1×1 reduction to 64",
)

STEM = Table(
    name="stem",
    source=f"{NOTES_001}: GoogLeNet, aggressive stem",
    columns=("layer", "out channels", "out size", "memory", "params", "flop"),
    rows=(
        ("conv 7×7/2", 64, 112, 3136, 9, 118),
        ("max-pool 3×3/2", 64, 56, 784, 0, 2),
        ("conv 1×1", 64, 56, 784, 4, 13),
        ("conv 3×3", 192, 56, 2352, 111, 347),
        ("max-pool 3×3/2", 192, 28, 588, 0, 1),
    ),
    units=(("memory", "KB"), ("params", "K"), ("flop", "M")),
    note="flop counts multiply-adds; memory: the output activations as float32",
)

STEM_TOTALS = Table(
    name="stem_totals",
    source=f"{NOTES_001}: GoogLeNet, aggressive stem (total from 224 to 28 resolution)",
    columns=("network", "memory", "params", "flop"),
    rows=(("GoogLeNet stem", 7.5, 124, 418), ("VGG-16", 42.9, 1100, 7485)),
    units=(("memory", "MB"), ("params", "K"), ("flop", "M")),
    note="the stem's totals and VGG-16's over the same resolutions, as printed",
)

STEM_RATIOS = Table(
    name="stem_ratios",
    source=f"{NOTES_001}: GoogLeNet, aggressive stem",
    columns=("quantity", "VGG-16 / GoogLeNet"),
    rows=(("memory", 5.7), ("params", 8.9), ("flop", 17.8)),
    note="as printed beside the VGG-16 totals",
)

REDUCTION = Table(
    name="reduction",
    source=f"{NOTES_001}: motivation of using a 1×1 convolutional layer",
    columns=("path", "operations"),
    rows=(("5×5 conv, 192 -> 32 maps", 120), ("1×1 to 16, then 5×5 to 32", 12.4)),
    units=(("operations", "M"),),
    note="a 28×28×192 input; operations are multiply-adds",
)

AUX_WEIGHT = Table(
    name="aux_weight",
    source=f"{PAPER}, Section 5",
    columns=("quantity", "value"),
    rows=(("auxiliary loss weight", 0.3), ("auxiliary dropout", 0.7)),
    note="the two auxiliary losses are added to the total loss with weight 0.3 in training; "
    "the auxiliary classifiers are discarded at inference",
)

SINGLE_CROP = Table(
    name="single_crop",
    source=f"{V4_PAPER}, Table 2 (as reproduced in the course notes, seed 000)",
    columns=("network", "top-1 error", "top-5 error"),
    rows=(
        ("BN-Inception", 25.2, 7.8),
        ("Inception-v3", 21.2, 5.6),
        ("Inception-ResNet-v1", 21.3, 5.5),
        ("Inception-v4", 20.0, 5.0),
        ("Inception-ResNet-v2", 19.9, 4.9),
    ),
    units=(("top-1 error", "%"), ("top-5 error", "%")),
    note="single model, single crop, ILSVRC 2012 validation set",
)

MULTI_CROP = Table(
    name="multi_crop",
    source=f"{V4_PAPER}, Table 5 (as reproduced in the course notes, seed 000)",
    columns=("network", "crops", "top-1 error", "top-5 error"),
    rows=(
        ("ResNet-151", "dense", 19.4, 4.5),
        ("Inception-v3", "144", 18.9, 4.3),
        ("Inception-ResNet-v1", "144", 18.8, 4.3),
        ("Inception-v4", "144", 17.7, 3.8),
        ("Inception-ResNet-v2", "144", 17.8, 3.7),
    ),
    units=(("top-1 error", "%"), ("top-5 error", "%")),
    note="single model, many crops, ILSVRC 2012 validation set",
)
