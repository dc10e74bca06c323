"""Text folding shared by every lookup, so "sante" finds "Santé" and "st-etienne" finds
"Saint-Étienne" the same way everywhere."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´_.,;:/()]+")
_SAINT = re.compile(r"\b(st|ste)\b")
_SAINT_FULL = {"st": "saint", "ste": "sainte"}


def fold(text: str) -> str:
    """Lower-case, strip accents and turn punctuation into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.casefold().replace("œ", "oe").replace("æ", "ae")
    return _SEPARATORS.sub(" ", bare).strip()


def fold_place(text: str) -> str:
    """Like `fold`, and also expands the "St"/"Ste" abbreviations used in commune names."""
    return _SAINT.sub(lambda m: _SAINT_FULL[m.group(1)], fold(text))
