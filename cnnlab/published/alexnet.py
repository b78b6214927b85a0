"""Published tables of topic 6 (AlexNet and its successors), as the lecture notes give them.

Sources: the course seeds 000 ("Network structures": Clarifai, OverFeat, the Chatfield et al.
table), 001 (CS60010 "CNN architectures": the AlexNet layer table, the top-k example),
002 (the ILSVRC 2012 placings) and 003 (Simonyan & Zisserman's Table 7). Errors are in per
cent.
"""

from __future__ import annotations

from cnnlab.published import Table

ALEXNET_LAYERS = Table(
    name="alexnet_layers",
    source="seed 001: CS60010 (Sarkar, 2023), 'AlexNet Network - Structural Details'",
    columns=("layer", "output", "params"),
    rows=(
        ("conv1", (55, 55, 96), 34_944),
        ("maxpool1", (27, 27, 96), 0),
        ("conv2", (27, 27, 256), 614_656),
        ("maxpool2", (13, 13, 256), 0),
        ("conv3", (13, 13, 384), 885_120),
        ("conv4", (13, 13, 384), 1_327_488),
        ("conv5", (13, 13, 256), 884_992),
        ("maxpool5", (6, 6, 256), 0),
        ("fc6", (1, 1, 4096), 37_752_832),
        ("fc7", (1, 1, 4096), 16_781_312),
        ("fc8", (1, 1, 1000), 4_097_000),
    ),
    note="227×227×3 input, one tower; total 62,378,344, 'about 95% of parameters in FC layers'",
)

ILSVRC_TOP5 = Table(
    name="ilsvrc_top5",
    source=(
        "seeds 002 (ILSVRC 2010-2012: AlexNet 15.3, runner-up 26.2, earlier 25.7 and 28.2), "
        "003 (Table 7: Clarifai 11.7 in 2013; VGG 7.3 and GoogLeNet 6.7 in 2014)"
    ),
    columns=("year", "entry", "deep", "top5_test"),
    rows=(
        (2010, "winner 2010", False, 28.2),
        (2011, "winner 2011", False, 25.7),
        (2012, "runner-up 2012 (non-deep)", False, 26.2),
        (2012, "AlexNet (SuperVision)", True, 15.3),
        (2013, "Clarifai (ZFNet variant)", True, 11.7),
        (2014, "VGG (runner-up)", True, 7.3),
        (2014, "GoogLeNet (winner)", True, 6.7),
    ),
    units=(("top5_test", "%"),),
    note=(
        "top-5 error on the ILSVRC test set (ensembles included). The notes give 25.7 and 28.2 as "
        "'prior competitors' without years; the years are ILSVRC's 2011 and 2010 winners. "
        "AlexNet's 15.3 used extra ImageNet 2011 data for pre-training; Clarifai's 11.7 is "
        "without outside data (11.2 with it, the 2013 winning entry)"
    ),
)

SINGLE_VS_ENSEMBLE = Table(
    name="single_vs_ensemble",
    source="seed 003: Simonyan & Zisserman (2015), Table 7",
    columns=("model", "nets", "top1_val", "top5_val", "top5_test"),
    rows=(
        ("AlexNet", 1, 40.7, 18.2, None),
        ("AlexNet", 5, 38.1, 16.4, 16.4),
        ("ZFNet", 1, 37.5, 16.0, 16.1),
        ("ZFNet", 6, 36.0, 14.7, 14.8),
        ("OverFeat", 1, 35.7, 14.2, None),
        ("OverFeat", 7, 34.0, 13.2, 13.6),
    ),
    units=(("top1_val", "%"), ("top5_val", "%"), ("top5_test", "%")),
    note="ILSVRC-2012 validation and test error; None: not given in the table",
)

CHATFIELD_TOP5 = Table(
    name="chatfield_top5",
    source="seed 000: Chatfield et al. (BMVC 2014), as summarised in 'Network structures'",
    columns=("model", "top5_val"),
    rows=(
        ("AlexNet", 17.0),
        ("Clarifai 1 ConvNet", 16.0),
        ("CNN-F", 16.7),
        ("CNN-M", 13.7),
        ("CNN-M 2048", 13.5),
        ("CNN-S", 13.1),
    ),
    units=(("top5_val", "%"),),
    note="ILSVRC-2012 top-5 error, single model",
)

OVERFEAT_AUGMENTATION = Table(
    name="overfeat_augmentation",
    source="seed 000: 'Model architecture-Overfeat'",
    columns=("model", "without_augmentation", "with_augmentation"),
    rows=(
        ("Clarifai", 16.5, 14.76),
        ("OverFeat-5", 16.97, 13.52),
        ("OverFeat-7", 14.18, 11.97),
    ),
    units=(("without_augmentation", "%"), ("with_augmentation", "%")),
    note="top-5 error with and without data augmentation",
)

TOPK_EXAMPLE = Table(
    name="topk_example",
    source="seed 001: CS60010, 'The Evaluation Metric: Top K-error' (true label: Abyssinian cat)",
    columns=("rank", "label", "score"),
    rows=(
        (1, "tabby cat", 0.61),
        (2, "Egyptian cat", 0.22),
        (3, "red fox", 0.11),
        (4, "Abyssinian cat", 0.10),
        (5, "French terrier", 0.03),
    ),
    note="the five highest scores a classifier gave one photograph of an Abyssinian cat",
)
