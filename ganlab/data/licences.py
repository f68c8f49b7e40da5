"""Licences of the built-in datasets: a model card names the licence of the data its generator learned from."""

from __future__ import annotations

# SPDX identifier + attribution, for the sources whose terms are known (a user's folder or zip: unknown, so none).
DATA_LICENCES: dict[str, dict[str, str]] = {
    "fashion-mnist": {
        "data_licence": "MIT",
        "data_attribution": "Fashion-MNIST, Copyright (c) 2017 Zalando SE, "
                            "https://github.com/zalandoresearch/fashion-mnist",
    },
    "digits": {
        "data_licence": "CC-BY-4.0",
        "data_attribution": "scikit-learn's digits: the test set of Optical Recognition of Handwritten Digits "
                            "(E. Alpaydin, C. Kaynak), UCI Machine Learning Repository, "
                            "https://archive.ics.uci.edu/dataset/80",
    },
    "emoji": {
        "data_licence": "OFL-1.1",
        "data_attribution": "glyphs rendered from the Noto Color Emoji font, Copyright 2013-2017 Google Inc., "
                            "SIL Open Font License 1.1, https://github.com/googlefonts/noto-emoji",
    },
}


def data_licence(dataset: str) -> dict[str, str]:
    """{"data_licence", "data_attribution"} of a built-in dataset (also 'emoji-all', 'emoji:faces'), else {}."""
    for name, licence in DATA_LICENCES.items():
        if dataset == name or dataset.startswith((f"{name}-", f"{name}:")):
            return dict(licence)
    return {}
