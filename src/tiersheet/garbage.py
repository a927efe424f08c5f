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


@contextmanager
def no_collections() -> Iterator[None]:
    """The cyclic collector off while a workbook is written: writing makes no reference cycles
    (tests/test_statements.py checks that nothing is left for the collector), so its scans
    would find nothing, and they cost 2-3% of a month's writing (the hyperlinks and row
    records a sheet holds until it is closed are scanned again and again)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
