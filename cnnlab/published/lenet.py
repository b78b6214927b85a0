"""Topic 5's published results: LeNet-5's layers and its MNIST error among its rivals.

Source: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied to Document
Recognition", Proc. IEEE 86(11), 1998 (Sections II.A and II.B, Table I, Fig. 9). The lecture notes
(CS60010, "CNN Architectures") open their history of CNNs with it.
"""

from __future__ import annotations

from cnnlab.published import Table

LECUN1998 = "LeCun, Bottou, Bengio, Haffner, Proc. IEEE 86(11), 1998"

LAYERS = Table(
    name="layers",
    source=f"{LECUN1998}, Section II.B",
    columns=("layer", "kind", "maps", "size", "params", "connections"),
    rows=(
        ("C1", "convolution 5×5", 6, 28, 156, 122_304),
        ("S2", "subsampling 2×2", 6, 14, 12, 5_880),
        ("C3", "convolution 5×5, Table I", 16, 10, 1_516, 151_600),
        ("S4", "subsampling 2×2", 16, 5, 32, 2_000),
        ("C5", "convolution 5×5", 120, 1, 48_120, 48_120),
        ("F6", "fully connected", 84, 1, 10_164, 10_164),
        ("output", "Euclidean RBF (fixed codes)", 10, 1, 0, 840),
    ),
    note=(
        "Section II.A states the network of Fig. 2 has 340,908 connections and 60,000 trainable "
        "parameters; the output row is derived: 10 RBF units × 84 inputs = 840 connections, "
        "their codes chosen by hand and kept fixed (at least initially), so no parameters"
    ),
)

TOTALS = Table(
    name="totals",
    source=f"{LECUN1998}, Section II.A (about the network of its Fig. 2)",
    columns=("quantity", "value"),
    rows=(("connections", 340_908), ("trainable parameters", 60_000)),
)

MNIST_ERRORS = Table(
    name="mnist_errors",
    source=f"{LECUN1998}, Fig. 9",
    columns=("classifier", "family", "test_error"),
    rows=(
        ("Linear", "other", 12.0),
        ("K-NN Euclidean", "other", 5.0),
        ("28x28-300-10", "fully connected net", 4.7),
        ("1000 RBF + linear", "other", 3.6),
        ("28x28-300-100-10", "fully connected net", 3.05),
        ("[16x16] Tangent Distance", "other", 1.1),
        ("SVM poly 4", "other", 1.1),
        ("[16x16] LeNet-1", "convolutional net", 1.7),
        ("LeNet-4", "convolutional net", 1.1),
        ("LeNet-5", "convolutional net", 0.95),
        ("[dist] LeNet-5", "convolutional net", 0.8),
        ("[dist] Boosted LeNet-4", "convolutional net", 0.7),
    ),
    units=(("test_error", "%"),),
    note=(
        "12 of Fig. 9's 27 bars, labels as the paper writes them; test error on MNIST's 10,000 "
        "test digits (uncertainty about 0.1 %, says the caption). [16x16]: images down-sampled "
        "to 16×16; [dist]: 540,000 distorted copies added to the 60,000 training digits; "
        "'family' is our grouping, not the paper's"
    ),
)

__all__ = ["LAYERS", "LECUN1998", "MNIST_ERRORS", "TOTALS"]
