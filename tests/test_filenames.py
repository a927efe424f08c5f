"""I8: statement file names made from untrusted partner IDs. Pure functions, no files."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from hypothesis import given, settings
from hypothesis import strategies as st

from tiersheet.filenames import clean, file_stems, reserved, tag


def test_i8_plain_ids_keep_their_own_name():
    assert file_stems(["P001", "P-002", "acme.de", "Wisła 7"]) == {
        "P001": "P001", "P-002": "P-002", "acme.de": "acme.de", "Wisła 7": "Wisła 7"}


def test_i8_path_separators_and_dots_never_leave_the_folder():
    stems = file_stems(["../../x", "a/b", "a\\b", "..", "/etc/passwd"])
    assert stems["../../x"] == f"x-{tag('../../x')}"
    assert stems["a/b"] == f"a_b-{tag('a/b')}"
    assert stems[".."] == f"partner-{tag('..')}"
    for stem in stems.values():
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".")


def test_i8_reserved_windows_names_get_a_suffix():
    assert reserved("CON") and reserved("nul") and reserved("com1") and reserved("LPT9.txt")
    assert not reserved("CONSOLE") and not reserved("COM10")
    stems = file_stems(["CON", "nul", "Com1"])
    assert stems == {"CON": f"CON-{tag('CON')}", "nul": f"nul-{tag('nul')}", "Com1": f"Com1-{tag('Com1')}"}


def test_i8_control_characters_and_empty_names():
    assert clean("a\x00b\tc\n") == "a_b_c"
    stems = file_stems(["", "   ", "\x07", "***"])
    assert len(set(stems.values())) == 4
    assert all(stem.startswith("partner-") for stem in stems.values())


def test_i8_ids_that_clean_to_one_name_or_differ_only_in_case_get_their_own_files():
    stems = file_stems(["a/b", "a:b", "a_b", "P001", "p001"])
    assert stems["a_b"] == "a_b"                           # safe already: a/b and a:b get suffixes
    assert stems["a/b"] == f"a_b-{tag('a/b')}" and stems["a:b"] == f"a_b-{tag('a:b')}"
    assert stems["P001"] == f"P001-{tag('P001')}" and stems["p001"] == f"p001-{tag('p001')}"
    assert len({s.casefold() for s in stems.values()}) == 5


def test_i8_unicode_normalisation_forms_are_one_name_on_macos():
    nfc, nfd = "Caf\u00e9", unicodedata.normalize("NFD", "Caf\u00e9")
    stems = file_stems([nfc, nfd])
    assert unicodedata.normalize("NFC", stems[nfc]).casefold() != unicodedata.normalize("NFC", stems[nfd]).casefold()


def test_i8_the_suffix_is_stable():
    assert file_stems(["a/b"])["a/b"] == file_stems(["x", "a/b", "y"])["a/b"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=120), min_size=1, max_size=12, unique=True))
def test_i8_any_ids_get_distinct_safe_names(ids):
    stems = file_stems(ids)
    assert set(stems) == set(ids)
    keys = {unicodedata.normalize("NFC", s).casefold() for s in stems.values()}
    assert len(keys) == len(ids)                               # never two IDs in one file
    for stem in stems.values():
        name = stem + ".xlsx"
        assert stem and stem == stem.strip(". ") and not stem.startswith("-") and not reserved(stem)
        assert PurePosixPath(name).name == name and PureWindowsPath(name).name == name
        assert not any(c in name for c in '<>:"/\\|?*') and all(c.isprintable() for c in name)
        assert len(name.encode("utf-8")) <= 255
