"""Published results of topic 14, comparing architectures: one row per ImageNet model of the course.

Gathered from the tables of topics 6–13 (``cnnlab.published.<slug>``), which hold the seeds' and
papers' tables with their sources; each row here names its source table. Errors are ILSVRC-2012
validation error of a single model, in %; ``protocol`` says how the paper tested, because
10-crop or dense multi-scale testing lowers the error by one to two points against one centre crop
(compare ``googlenet/single_crop`` with ``googlenet/multi_crop``): never read two protocols as one.
"not stated": the table the seeds give does not say. ``params`` (M) and ``mult_adds`` (G) are the
figures the same sources print; None where they print none.
"""

from __future__ import annotations

from cnnlab.published import Table

_VGG7 = "alexnet/single_vs_ensemble (Simonyan & Zisserman 2015, Table 7)"
_MOB8 = "mobilenet/versus (Howard et al. 2017, Table 8)"
_VGG3 = "vgg/single_scale (Simonyan & Zisserman 2015, Table 3); params: vgg/parameters (Table 2)"
_V4 = "googlenet/single_crop (Szegedy et al. 2017, Table 2)"
_HE3 = "resnet/shortcuts (He et al. 2016, Table 3); mult-adds: resnet/architectures (Table 1)"
_DPN = "resnet_family/dpn_imagenet and dpn_architectures (seed 004: Chen et al. 2017)"

IMAGENET = Table(
    name="imagenet",
    source="the published tables of topics 6–13 (seeds 000–004 and the papers they cite)",
    columns=("model", "label", "top1", "top5", "protocol", "params", "mult_adds", "from"),
    rows=(
        ("alexnet", "AlexNet", 40.7, 18.2, "not stated", 60.0, 0.72, f"{_VGG7}; cost: {_MOB8}"),
        ("zfnet", "ZFNet", 37.5, 16.0, "not stated", None, None, _VGG7),
        ("nin", "NIN", 39.2, None, "not stated", 7.5, None, "nin/alexnet_vs_nin (seed 000)"),
        ("vgg11", "VGG-11 (A)", 29.6, 10.4, "dense, 1 scale", 133.0, None, _VGG3),
        ("vgg13", "VGG-13 (B)", 28.7, 9.9, "dense, 1 scale", 133.0, None, _VGG3),
        (
            "vgg16",
            "VGG-16 (D)",
            27.0,
            8.8,
            "dense, 1 scale",
            138.0,
            15.3,
            f"{_VGG3}; cost: {_MOB8}",
        ),
        ("vgg19", "VGG-19 (E)", 27.3, 9.0, "dense, 1 scale", 144.0, None, _VGG3),
        (
            "googlenet",
            "GoogLeNet",
            30.2,
            None,
            "not stated",
            6.8,
            1.55,
            f"{_MOB8} (69.8 % top-1 accuracy)",
        ),
        ("bn_inception", "BN-Inception", 25.2, 7.8, "1 crop", None, None, _V4),
        ("inception_v3", "Inception-v3", 21.2, 5.6, "1 crop", None, None, _V4),
        ("inception_v4", "Inception-v4", 20.0, 5.0, "1 crop", None, None, _V4),
        ("inception_resnet_v2", "Inception-ResNet-v2", 19.9, 4.9, "1 crop", None, None, _V4),
        (
            "resnet18",
            "ResNet-18",
            27.88,
            None,
            "10-crop",
            None,
            1.8,
            "resnet/plain_vs_residual (He et al. 2016, Table 2, option A); mult-adds: Table 1",
        ),
        ("resnet34", "ResNet-34", 24.52, 7.46, "10-crop", None, 3.6, f"{_HE3} (option B)"),
        ("resnet50", "ResNet-50", 22.85, 6.71, "10-crop", None, 3.8, _HE3),
        ("resnet101", "ResNet-101", 21.75, 6.05, "10-crop", None, 7.6, _HE3),
        ("resnet152", "ResNet-152", 21.43, 5.71, "10-crop", None, 11.3, _HE3),
        ("resnext101_32x4d", "ResNeXt-101 32×4d", 21.2, 5.6, "1 crop", 44.3, 8.0, _DPN),
        ("resnext101_64x4d", "ResNeXt-101 64×4d", 20.4, 5.3, "1 crop", 83.7, 15.5, _DPN),
        ("densenet161", "DenseNet-161", 22.2, None, "1 crop", 28.9, 7.7, _DPN),
        ("dpn92", "DPN-92", 20.7, 5.4, "1 crop", 37.8, 6.5, _DPN),
        ("dpn98", "DPN-98", 20.2, 5.2, "1 crop", 61.7, 11.7, _DPN),
        (
            "mobilenet_v1",
            "MobileNet v1",
            29.4,
            None,
            "not stated",
            4.2,
            0.569,
            "mobilenet/width (Howard et al. 2017, Table 6: 70.6 % top-1 accuracy)",
        ),
    ),  # fmt: skip
    units=(("top1", "%"), ("top5", "%"), ("params", "M"), ("mult_adds", "G")),
    note=(
        "ILSVRC-2012 validation error of one model; 'protocol' is how it was tested (1 crop: "
        "one centre crop; 10-crop: ten crops averaged; dense: the whole image at one scale). "
        "DPN-table parameters include batch-norm statistics"
    ),
)
