"""Published VGG tables: the paper's parameter counts and error rates, and the seed's memory table.

Sources: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (arXiv:1409.1556): Table 2 (parameters; the paper only, no seed has it;
the weight-layer counts are Table 1's), Tables 3, 4 and 7 (also in the course's VGG deck, seed
003); the VGG-16 memory and weight walk-through of the CS231n notes (seed 002).
"""

from __future__ import annotations

from cnnlab.published import Table

PAPER = "Simonyan & Zisserman, ICLR 2015 (arXiv:1409.1556)"
CS231N = "CS231n notes, 'VGGNet in detail' (course seed 002)"

PARAMETERS = Table(
    name="parameters",
    source=f"{PAPER}, Table 2 (weight layers: Table 1)",
    columns=("config", "weight layers", "params"),
    rows=(
        ("A", 11, 133),
        ("A-LRN", 11, 133),
        ("B", 13, 133),
        ("C", 16, 134),
        ("D", 16, 138),
        ("E", 19, 144),
    ),
    units=(("params", "M"),),
    note="number of parameters in millions, rounded by the paper",
)

SINGLE_SCALE = Table(
    name="single_scale",
    source=f"{PAPER}, Table 3",
    columns=("config", "train S", "test Q", "top-1", "top-5"),
    rows=(
        ("A", "256", "256", 29.6, 10.4),
        ("A-LRN", "256", "256", 29.7, 10.5),
        ("B", "256", "256", 28.7, 9.9),
        ("C", "256", "256", 28.1, 9.4),
        ("C", "384", "384", 28.1, 9.3),
        ("C", "[256;512]", "384", 27.3, 8.8),
        ("D", "256", "256", 27.0, 8.8),
        ("D", "384", "384", 26.8, 8.7),
        ("D", "[256;512]", "384", 25.6, 8.1),
        ("E", "256", "256", 27.3, 9.0),
        ("E", "384", "384", 26.9, 8.7),
        ("E", "[256;512]", "384", 25.5, 8.0),
    ),
    units=(("top-1", "%"), ("top-5", "%")),
    note="ILSVRC-2012 validation error, one test scale Q, dense evaluation",
)

MULTI_SCALE = Table(
    name="multi_scale",
    source=f"{PAPER}, Table 4",
    columns=("config", "train S", "test Q", "top-1", "top-5"),
    rows=(
        ("B", "256", "224,256,288", 28.2, 9.6),
        ("C", "256", "224,256,288", 27.7, 9.2),
        ("C", "384", "352,384,416", 27.8, 9.2),
        ("C", "[256;512]", "256,384,512", 26.3, 8.2),
        ("D", "256", "224,256,288", 26.6, 8.6),
        ("D", "384", "352,384,416", 26.5, 8.6),
        ("D", "[256;512]", "256,384,512", 24.8, 7.5),
        ("E", "256", "224,256,288", 26.9, 8.7),
        ("E", "384", "352,384,416", 26.7, 8.6),
        ("E", "[256;512]", "256,384,512", 24.8, 7.5),
    ),
    units=(("top-1", "%"), ("top-5", "%")),
    note="ILSVRC-2012 validation error, class posteriors averaged over three test scales Q",
)

STATE_OF_THE_ART = Table(
    name="state_of_the_art",
    source=f"{PAPER}, Table 7",
    columns=("method", "top-5 test"),
    rows=(
        ("VGG (2 nets, multi-crop & dense)", 6.8),
        ("VGG (1 net, multi-crop & dense)", 7.0),
        ("VGG (ILSVRC submission, 7 nets)", 7.3),
        ("GoogLeNet (7 nets)", 6.7),
        ("GoogLeNet (1 net)", 7.9),
        ("MSRA (11 nets)", 8.1),
        ("Clarifai (multiple nets)", 11.7),
        ("Zeiler & Fergus (6 nets)", 14.8),
        ("OverFeat (7 nets)", 13.6),
        ("Krizhevsky et al. (5 nets)", 16.4),
    ),
    units=(("top-5 test", "%"),),
    note="ILSVRC classification, top-5 test error, no outside training data",
)

VGG16_MEMORY = Table(
    name="vgg16_memory",
    source=CS231N,
    columns=("layer", "output", "memory", "weights"),
    rows=(
        ("input", "224x224x3", 150_528, 0),
        ("conv3-64", "224x224x64", 3_211_264, 1_728),
        ("conv3-64", "224x224x64", 3_211_264, 36_864),
        ("pool2", "112x112x64", 802_816, 0),
        ("conv3-128", "112x112x128", 1_605_632, 73_728),
        ("conv3-128", "112x112x128", 1_605_632, 147_456),
        ("pool2", "56x56x128", 401_408, 0),
        ("conv3-256", "56x56x256", 802_816, 294_912),
        ("conv3-256", "56x56x256", 802_816, 589_824),
        ("conv3-256", "56x56x256", 802_816, 589_824),
        ("pool2", "28x28x256", 200_704, 0),
        ("conv3-512", "28x28x512", 401_408, 1_179_648),
        ("conv3-512", "28x28x512", 401_408, 2_359_296),
        ("conv3-512", "28x28x512", 401_408, 2_359_296),
        ("pool2", "14x14x512", 100_352, 0),
        ("conv3-512", "14x14x512", 100_352, 2_359_296),
        ("conv3-512", "14x14x512", 100_352, 2_359_296),
        ("conv3-512", "14x14x512", 100_352, 2_359_296),
        ("pool2", "7x7x512", 25_088, 0),
        ("fc", "1x1x4096", 4_096, 102_760_448),
        ("fc", "1x1x4096", 4_096, 16_777_216),
        ("fc", "1x1x1000", 1_000, 4_096_000),
    ),
    note=(
        "per-image output values ('memory') and weights (biases not counted) of each layer, "
        "written out as products in the notes (224*224*64 = 3.2M); their stated totals are in "
        "VGG16_TOTALS"
    ),
)

VGG16_TOTALS = Table(
    name="vgg16_totals",
    source=CS231N,
    columns=("quantity", "stated"),
    rows=(
        ("activations (M)", 24),
        ("forward memory (MB, 4 bytes each)", 93),
        ("parameters (M)", 138),
    ),
    note="'TOTAL memory: 24M * 4 bytes ~= 93MB / image (only forward! ~*2 for bwd)'",
)
