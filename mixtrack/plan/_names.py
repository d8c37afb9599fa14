"""Names: the words in an event or property name, and the naming conventions.

>>> words("Added To Cart"), words("addedToCart"), words("checkout-test")
(['added', 'to', 'cart'], ['added', 'to', 'cart'], ['checkout', 'test'])
>>> identifier("Added To Cart"), class_name("Added To Cart")
('added_to_cart', 'AddedToCart')
>>> follows("Added to cart", "title"), follows("added_to_cart", "snake_case")
(False, True)
"""

from __future__ import annotations

import keyword
import re
from typing import Literal

__all__ = [
    "CONVENTIONS",
    "Convention",
    "class_name",
    "fold",
    "follows",
    "identifier",
    "spell",
    "words",
]

Convention = Literal["snake_case", "title", "camel", "sentence"]
CONVENTIONS: tuple[Convention, ...] = ("snake_case", "title", "camel", "sentence")

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_PATTERNS: dict[Convention, re.Pattern[str]] = {
    "snake_case": re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*"),
    # Title Case: every word capitalised, single spaces ("Added To Cart", "Viewed FAQ")
    "title": re.compile(r"[A-Z0-9][A-Za-z0-9]*( [A-Z0-9][A-Za-z0-9]*)*"),
    "camel": re.compile(r"[a-z][a-z0-9]*([A-Z][a-z0-9]*)*"),
    # Sentence case: a capital first letter, then lower case ("Added to cart")
    "sentence": re.compile(r"[A-Z0-9][a-z0-9]*( [a-z0-9]+)*"),
}


def words(name: str) -> list[str]:
    """The lower-cased words of ``name``, whatever its convention."""
    return [w.lower() for w in _WORD.findall(name)]


def fold(name: str) -> str:
    """``name`` with case, separators and convention folded away: two names with the same
    fold are the same name spelt twice (``Checkout Test`` / ``checkout-test``)."""
    return "".join(words(name))


def follows(name: str, convention: Convention) -> bool:
    """Whether ``name`` is spelt in ``convention``."""
    return _PATTERNS[convention].fullmatch(name) is not None


def spell(name: str, convention: Convention) -> str:
    """``name`` respelt in ``convention``: ``spell("Added to cart", "title")`` is
    ``"Added To Cart"``."""
    parts = words(name) or [name]
    if convention == "snake_case":
        return "_".join(parts)
    if convention == "title":
        return " ".join(p[:1].upper() + p[1:] for p in parts)
    if convention == "sentence":
        text = " ".join(parts)
        return text[:1].upper() + text[1:]
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def identifier(name: str) -> str:
    """A Python identifier for ``name`` (snake_case; a keyword gets a trailing ``_``)."""
    text = "_".join(words(name)) or "unnamed"
    if text[0].isdigit():
        text = "_" + text
    return text + "_" if keyword.iskeyword(text) else text


def class_name(name: str) -> str:
    """A PascalCase class name for ``name``."""
    text = "".join(w[:1].upper() + w[1:] for w in words(name)) or "Unnamed"
    return "_" + text if text[0].isdigit() else text
