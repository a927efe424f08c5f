"""Issue 10: the inbox saved by LibreOffice in each of its formats (xlsx, xls, ods, and csv with
its default settings) gives the same Partners figures as the original (SPEC I1, I6, I9).
Skipped when LibreOffice is not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from corpus import one_file_per_kind  # noqa: E402
from test_corpus import counts, figures  # noqa: E402

from tiersheet.config import load_rules  # noqa: E402
from tiersheet.inbox import read_inbox  # noqa: E402

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
RULES = load_rules()


def convert(files: list[Path], to: str, into: Path, profile: Path) -> None:
    """Save `files` through LibreOffice as format `to` into `into` (a throw-away profile)."""
    into.mkdir()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", to, "--outdir", str(into), *map(str, files)],
                   check=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    assert len(list(into.iterdir())) == len(files), (to, sorted(p.name for p in into.iterdir()))


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("original")
    one_file_per_kind(folder)
    return folder


@pytest.mark.parametrize("to", ["xlsx", "xls", "ods", "csv"])
def test_i1_i9_the_inbox_saved_by_libreoffice_gives_the_same_figures(original, tmp_path, to):
    files = sorted(original.iterdir())
    convert(files, to, tmp_path / to, tmp_path / "profile")
    before, after = read_inbox(original, RULES), read_inbox(tmp_path / to, RULES)
    assert [str(p) for p in after.problems if p.is_problem] == []
    assert counts(after) == counts(before)
    assert figures(after) == figures(before)
