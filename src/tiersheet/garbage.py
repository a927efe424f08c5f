"""How a large run collects garbage: rarely."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def few_collections() -> Iterator[None]:
    """A run builds millions of long-lived row objects that hold no reference cycles; Python's
    cyclic garbage collector would rescan them over and over (a tenth of a large run). So
    collections are made rarer, and what each stage has built is frozen out of later scans."""
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
