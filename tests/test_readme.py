"""The README's "How to audit a number" walkthrough, checked against the sample workbook it cites
(issue 8.2), so that the walkthrough can never drift from the code again.

Every cell the walkthrough cites is written with its sheet (`Partners!H4`); a formula in
backticks belongs to the cell cited just before it ("..." stands for an elided part), and
"`CELL` is N" / "`CELL` shows N" / "is TRUE|FALSE" claims are checked against the cached value.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main

ROOT = Path(__file__).resolve().parents[1]
CELL = r"(?:'[^'`]+'|[A-Za-z][A-Za-z ]*?)!\$?[A-Z]{1,3}\$?\d+"


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## How to audit a number")
    end = text.index("\n## ", start + 1)
    return " ".join(text[start:end].split())


def split_cell(reference: str) -> tuple[str, str]:
    sheet, cell = reference.rsplit("!", 1)
    return sheet.strip("'"), cell.replace("$", "")


def claims(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(cell, formula) and (cell, value) claims made by the walkthrough."""
    formulas, current = [], None
    for span in re.findall(r"`([^`]+)`", text):
        if re.fullmatch(CELL, span):
            current = span
        elif span.startswith("="):
            assert current, f"formula {span} cites no cell before it"
            formulas.append((current, span))
        elif re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", span):
            pytest.fail(f"the walkthrough cites `{span}` without its sheet: write Sheet!{span}")
    values = re.findall(rf"`({CELL})`(?:, [^`]*?,)? (?:is|shows) (TRUE|FALSE|\d[\d,]*)\b", text)
    return formulas, values


@pytest.fixture(scope="module")
def sample_workbook(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", str(ROOT / "samples" / "inbox"), "--out", str(out),
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    path = out / "tiersheet-2025-01.xlsx"
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def test_readme_audit_walkthrough_cites_the_formulas_the_workbook_holds(sample_workbook):
    formulas_book, _ = sample_workbook
    formulas, _ = claims(walkthrough())
    assert len(formulas) >= 10, formulas  # the walkthrough is checked, not skipped
    for reference, claimed in formulas:
        sheet, cell = split_cell(reference)
        actual = str(formulas_book[sheet][cell].value)
        pattern = ".*?".join(re.escape(part) for part in claimed.split("..."))
        assert re.fullmatch(pattern, actual), f"README says {reference} is {claimed}; it is {actual}"


def test_readme_audit_walkthrough_cites_the_values_the_workbook_shows(sample_workbook):
    _, values_book = sample_workbook
    _, values = claims(walkthrough())
    assert len(values) >= 4, values
    for reference, claimed in values:
        sheet, cell = split_cell(reference)
        actual = values_book[sheet][cell].value
        expected = {"TRUE": True, "FALSE": False}.get(claimed, None)
        if expected is None:
            expected = int(claimed.replace(",", ""))
        assert actual == expected and type(actual) is type(expected), \
            f"README says {reference} is {claimed}; it is {actual!r}"


def test_readme_email_template_example_is_a_valid_template(tmp_path):
    """The monthly routine's template example loads as `tiersheet email --template` would."""
    from tiersheet.mailer.template import STATEMENT_PLACEHOLDERS, load_wording

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The monthly routine"):text.index("## Running it")]
    example = re.search(r"```text\n(Subject:.*?)```", section, re.DOTALL).group(1)
    path = tmp_path / "template.txt"
    path.write_text(example, encoding="utf-8")
    wording = load_wording(path, STATEMENT_PLACEHOLDERS)
    assert "$partner_name" in wording.subject.template
