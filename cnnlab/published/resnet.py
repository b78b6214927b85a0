"""Published results of topic 11, degradation vs ResNet, as data.

* He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
  (arXiv:1512.03385): Table 1 (architectures and FLOPs), Table 2 (plain vs residual top-1
  error), Table 3 (shortcut options A/B/C and deeper models), Table 6 (CIFAR-10).
* He, Zhang, Ren, Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
  (arXiv:1603.05027): Table 3 (original vs pre-activation blocks).
* The course notes (seed 002, "Residual Network (ResNet) for Image Recognition"): the ILSVRC
  top-5 errors of VGG and ResNet.

Errors in %; FLOPs as the paper prints them (multiply-adds, 10⁹); parameters in millions.
"""

from __future__ import annotations

from cnnlab.published import Table

HE2015 = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016"
HE2016 = "He et al., Identity Mappings in Deep Residual Networks, ECCV 2016"
NOTES = "course notes (seed 002), Results on ImageNet"

ARCHITECTURES = Table(
    name="architectures",
    source=f"{HE2015}, Table 1",
    columns=("model", "block", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "FLOPs"),
    rows=(
        ("ResNet-18", "basic", 2, 2, 2, 2, 1.8),
        ("ResNet-34", "basic", 3, 4, 6, 3, 3.6),
        ("ResNet-50", "bottleneck", 3, 4, 6, 3, 3.8),
        ("ResNet-101", "bottleneck", 3, 4, 23, 3, 7.6),
        ("ResNet-152", "bottleneck", 3, 8, 36, 3, 11.3),
    ),
    units=(("FLOPs", "G"),),
    note="blocks per stage; FLOPs are multiply-adds at 224×224 (×10⁹)",
)

PLAIN_VS_RESIDUAL = Table(
    name="plain_vs_residual",
    source=f"{HE2015}, Table 2",
    columns=("depth", "plain", "ResNet"),
    rows=((18, 27.94, 27.88), (34, 28.54, 25.03)),
    units=(("plain", "%"), ("ResNet", "%")),
    note="ImageNet top-1 error, 10-crop testing, validation set; ResNets with option A",
)

SHORTCUTS = Table(
    name="shortcuts",
    source=f"{HE2015}, Table 3",
    columns=("model", "top-1", "top-5"),
    rows=(
        ("plain-34", 28.54, 10.02),
        ("ResNet-34 A", 25.03, 7.76),
        ("ResNet-34 B", 24.52, 7.46),
        ("ResNet-34 C", 24.19, 7.40),
        ("ResNet-50", 22.85, 6.71),
        ("ResNet-101", 21.75, 6.05),
        ("ResNet-152", 21.43, 5.71),
    ),
    units=(("top-1", "%"), ("top-5", "%")),
    note="ImageNet validation error, 10-crop testing; A: zero-padding shortcuts, B: projections "
    "where the shape changes, C: projections everywhere; 50/101/152 use B",
)

CIFAR = Table(
    name="cifar",
    source=f"{HE2015}, Table 6",
    columns=("model", "layers", "parameters", "error"),
    rows=(
        ("ResNet", 20, 0.27, 8.75),
        ("ResNet", 32, 0.46, 7.51),
        ("ResNet", 44, 0.66, 7.17),
        ("ResNet", 56, 0.85, 6.97),
        ("ResNet", 110, 1.7, 6.43),
        ("ResNet", 1202, 19.4, 7.93),
    ),
    units=(("parameters", "M"), ("error", "%")),
    note="CIFAR-10 test error with option A shortcuts (110: best of 5 runs, mean 6.61 ± 0.16)",
)

PREACT = Table(
    name="preact",
    source=f"{HE2016}, Table 3",
    columns=("dataset", "depth", "original", "pre-activation"),
    rows=(
        ("CIFAR-10", 110, 6.61, 6.37),
        ("CIFAR-10", 164, 5.93, 5.46),
        ("CIFAR-10", 1001, 7.61, 4.92),
        ("CIFAR-100", 164, 25.16, 24.33),
        ("CIFAR-100", 1001, 27.82, 22.71),
    ),
    units=(("original", "%"), ("pre-activation", "%")),
    note="test error; 164 and 1001 use bottleneck blocks",
)

ILSVRC = Table(
    name="ilsvrc",
    source=NOTES,
    columns=("method", "top-5"),
    rows=(("VGG (ILSVRC'14)", 7.32), ("ResNet (ILSVRC'15)", 3.57)),
    units=(("top-5", "%"),),
    note="ImageNet test top-5 error",
)
