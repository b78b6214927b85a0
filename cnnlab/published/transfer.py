"""Published facts of topic 15, transfer learning, as data.

From the course notes: seed 000 (J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How
transferable are features in deep neural networks?", NIPS 2014: the class splits and the
network) and seed 002 (the CS231n deck's table: what to do with a pretrained ConvNet, by how
similar the new data is and how much of it there is). The notes reproduce the paper's result
figures as images only, so no accuracy is stored here: our curves come from our own band.
"""

from __future__ import annotations

from cnnlab.published import Table

YOSINSKI = (
    "Yosinski, Clune, Bengio and Lipson, How transferable are features in deep neural "
    "networks?, NIPS 2014 (course notes, seed 000)"
)
CS231N = "CS231n, Transfer Learning with CNNs (course notes, seed 002)"

SPLITS = Table(
    name="splits",
    source=YOSINSKI,
    columns=("split", "classes A", "classes B", "network", "layers", "transfer depths"),
    rows=(
        ("random halves of ImageNet", 500, 500, "AlexNet", 8, "1..7"),
        ("man-made (A) vs natural (B)", 449, 551, "AlexNet", 8, "1..7"),
    ),
    note="baseA and baseB are trained on A and B; a treatment copies the first n layers",
)

TREATMENTS = Table(
    name="treatments",
    source=YOSINSKI,
    columns=("treatment", "first n layers from", "first n layers", "layers above n"),
    rows=(
        ("BnB", "baseB", "frozen", "random init, trained on B"),
        ("AnB", "baseA", "frozen", "random init, trained on B"),
        ("BnB+", "baseB", "fine-tuned on B", "random init, trained on B"),
        ("AnB+", "baseA", "fine-tuned on B", "random init, trained on B"),
    ),
    note="BnB is the selffer control of the transfer network AnB",
)

ADVICE = Table(
    name="advice",
    source=CS231N,
    columns=("data", "very similar dataset", "very different dataset"),
    rows=(
        (
            "very little data",
            "use a linear classifier on the top layer",
            "you're in trouble: try linear classifiers from different stages",
        ),
        ("quite a lot of data", "fine-tune a few layers", "fine-tune a larger number of layers"),
    ),  # fmt: skip
    note="lower layers are more generic, higher layers more specific to the original task",
)
