"""Published results of topic 8, Network in Network, as data.

From M. Lin, Q. Chen, S. Yan, "Network In Network", ICLR 2014 (arXiv:1312.4400v3): the
CIFAR-10 and CIFAR-100 test errors against the methods of the time (Tables 1 and 2), global
average pooling against fully connected heads on the same mlpconv layers (Table 5) and dropout
between the mlpconv layers (Section 4.2, curves in Figure 3). From the course notes (seed 000,
"Network in Network"): NIN against AlexNet in parameters, model size, top-1 error and training
time. The NIN rows of the CIFAR tables also appear in the DenseNet comparison of the course notes
(seed 004), which ``DENSENET_NIN_ROW`` keeps for cross-checking.
"""

from __future__ import annotations

from cnnlab.published import Table

PAPER = "Lin, Chen, Yan, Network In Network, ICLR 2014 (arXiv:1312.4400)"
NOTES = "course notes, network structures (seed 000): Network in Network vs AlexNet"

CIFAR10 = Table(
    name="cifar10",
    source=f"{PAPER}, Table 1",
    columns=("method", "augmentation", "test error"),
    rows=(
        ("Stochastic Pooling", False, 15.13),
        ("CNN + Spearmint", False, 14.98),
        ("Conv. maxout + Dropout", False, 11.68),
        ("NIN + Dropout", False, 10.41),
        ("CNN + Spearmint", True, 9.50),
        ("Conv. maxout + Dropout", True, 9.38),
        ("DropConnect + 12 networks", True, 9.32),
        ("NIN + Dropout", True, 8.81),
    ),
    units=(("test error", "%"),),
    note="CIFAR-10 test set; augmentation: translation and horizontal flipping",
)

CIFAR100 = Table(
    name="cifar100",
    source=f"{PAPER}, Table 2",
    columns=("method", "test error"),
    rows=(
        ("Learned Pooling", 43.71),
        ("Stochastic Pooling", 42.51),
        ("Conv. maxout + Dropout", 38.57),
        ("Tree based priors", 36.85),
        ("NIN + Dropout", 35.68),
    ),
    units=(("test error", "%"),),
    note="CIFAR-100 test set, no data augmentation",
)

GAP_VS_FC = Table(
    name="gap_vs_fc",
    source=f"{PAPER}, Table 5",
    columns=("head", "test error"),
    rows=(
        ("mlpconv + Fully Connected", 11.59),
        ("mlpconv + Fully Connected + Dropout", 10.88),
        ("mlpconv + Global Average Pooling", 10.41),
    ),
    units=(("test error", "%"),),
    note="CIFAR-10, the same three mlpconv layers with each head; no data augmentation",
)

DROPOUT = Table(
    name="dropout",
    source=f"{PAPER}, Section 4.2 (14.51 % without dropout; curves in Figure 3) and Table 1",
    columns=("model", "test error"),
    rows=(("NIN without dropout", 14.51), ("NIN with dropout between mlpconv layers", 10.41)),
    units=(("test error", "%"),),
    note="CIFAR-10, no data augmentation",
)

ALEXNET_VS_NIN = Table(
    name="alexnet_vs_nin",
    source=NOTES,
    columns=("model", "parameters", "model size", "top-1 error", "training time"),
    rows=(
        ("AlexNet", 60.0, 230, 40.7, 8),
        ("NIN", 7.5, 29, 39.2, 4),
    ),
    units=(
        ("parameters", "M"),
        ("model size", "MB"),
        ("top-1 error", "%"),
        ("training time", "days on a GTX Titan"),
    ),
    note="ImageNet (ILSVRC 2012) validation, single model; NIN without fc6 and fc7",
)

DENSENET_NIN_ROW = Table(
    name="densenet_nin_row",
    source="course notes (seed 004): DenseNet's CIFAR/SVHN comparison, row Network in Network",
    columns=("dataset", "test error"),
    rows=(("C10", 10.41), ("C10+", 8.81), ("C100", 35.68), ("SVHN", 2.35)),
    units=(("test error", "%"),),
    note="C10+: CIFAR-10 with standard augmentation",
)
