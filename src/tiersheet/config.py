"""The programme's parameters, read from a TOML rules file and checked key by key.

A rules file is user input that decides money, so anything unexpected in it (an unknown key, a
missing key, a wrong type) stops the run with a message naming the key, rather than being
guessed around. Its `[[version]]` tables (R18) change some keys from a month on; the rule book
answers which rules are in force in a month.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import date
from importlib import resources
from pathlib import Path

from .errors import UsageProblem


class RulesError(UsageProblem):
    """The rules file cannot be used; the message names the offending key (exit 2)."""


@dataclass(frozen=True)
class Level:
    key: str
    name: str
    threshold: int
    margin: float
    nfr_edition: str
    requirements: dict[str, int | bool]
    benefits: tuple[str, ...]
    rank: int  # 1 for the lowest level


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    kind: str  # "yes", "count" or "commitment"


@dataclass(frozen=True)
class Activity:
    key: str
    label: str
    points: int
    needs_approval: bool
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    levels: tuple[Level, ...]
    requirements: tuple[Requirement, ...]
    activities: tuple[Activity, ...]
    usd_per_point: float
    bonus_level: str
    bonus_points: int
    bonus_per_usd: float
    bonus_from: date | None
    bonus_until: date | None
    commitment_level: str
    valid_months: int
    downgrade: str
    first_sale_product: str
    first_sale_type: str
    first_sale_discount: float
    nfr_first_sale_level: str
    leads_level: str
    coop_min_level: str
    coop_share: float
    max_amount_usd: float
    source: str = field(default="")
    version: int = 0                      # R18: 0 for the rules file's own tables, then 1, 2...
    version_from: date | None = None      # the first month of the version
    version_changes: tuple[str, ...] = ()  # what the version changed, as "key = value"

    @property
    def version_label(self) -> str:
        """How the Rules sheet names the version in force (R18)."""
        if not self.version:
            return "the rules file's own tables (no [[version]] in force)"
        return f"version {self.version}, from {self.version_from:%Y-%m}"

    def level(self, key: str) -> Level:
        return next(lv for lv in self.levels if lv.key == key)

    def level_by_name(self, name: str) -> Level:
        return next(lv for lv in self.levels if lv.name == name)

    @property
    def lowest(self) -> Level:
        return self.levels[0]

    def required(self, level: Level, requirement: Requirement) -> int | bool:
        """What `level` asks of `requirement` (0/False when it asks nothing)."""
        return level.requirements.get(requirement.key, 0 if requirement.kind == "count" else False)

    @cached_property
    def asked(self) -> dict[int, tuple[tuple[Requirement, int | bool], ...]]:
        """By level rank, the requirements the level asks something of and what it asks, in
        the rules' order (R6 looks them up for every partner and level, every month; the
        Requirements and Rules sheets write them)."""
        return {level.rank: tuple((requirement, needed) for requirement in self.requirements
                                  if (needed := self.required(level, requirement))) for level in self.levels}


@dataclass(frozen=True)
class RuleBook:
    """The rules over time (R18): the rules file's own tables, then each version in force from
    its month on. The engine and the workbooks ask for the rules of the month they are in."""
    versions: tuple[Rules, ...]

    @property
    def base(self) -> Rules:
        """The rules the inbox is read with: versions change no level name, activity name or
        limit, so every version reads inputs the same way."""
        return self.versions[0]

    def for_month(self, month: date) -> Rules:
        """The latest version whose `from` month has begun by `month`."""
        return [v for v in self.versions if v.version_from is None or v.version_from <= month][-1]


def rule_book(rules: Rules | RuleBook) -> RuleBook:
    """A rule book, from one set of rules (a book with no versions) or a book."""
    return rules if isinstance(rules, RuleBook) else RuleBook((rules,))


def default_rules_path() -> Path:
    return Path(str(resources.files("tiersheet").joinpath("rules.toml")))


def read_toml(path: Path) -> dict:
    """A TOML file as written by people: UTF-8, with or without the byte-order mark that
    Windows Notepad writes. Anything unreadable is a ValueError whose message starts with the
    path and says what is wrong in one line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: is not a text file in UTF-8 (byte {exc.start + 1} is 0x{data[exc.start]:02x}); "
                         "save it as UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: is not valid TOML: {exc}") from None


def load_rules(path: Path | None = None) -> Rules:
    """The rules file's own tables, without its versions (the packaged default when `path` is
    None)."""
    return load_rule_book(path).base


def load_rule_book(path: Path | None = None) -> RuleBook:
    """Read and check a rules file and its versions (R18)."""
    path = path or default_rules_path()
    try:
        raw = read_toml(Path(path))
    except ValueError as exc:
        raise RulesError(f"rules file {exc}") from None
    try:
        return parse_rule_book(raw)
    except RulesError as exc:
        raise RulesError(f"rules file {path}: {exc}") from None


# R18: what a version may not change: how inputs are read is the same in every month.
FIXED_IN_VERSIONS = {"levels.*.key", "levels.*.name", "activities.*.label", "activities.*.aliases",
                     "limits.max_amount_usd"}


def parse_rule_book(raw: dict) -> RuleBook:
    """The rules file's own tables, then each `[[version]]` applied over the one before (R18)."""
    raw = dict(raw)
    versions_raw = raw.pop("version", [])
    if not isinstance(versions_raw, list) or not all(isinstance(v, dict) for v in versions_raw):
        raise RulesError("key 'version' must be [[version]] tables")
    book = [parse_rules(raw)]
    current = raw
    for number, table in enumerate(versions_raw, start=1):
        table = dict(table)
        start = table.pop("from", None)
        where = f"[[version]] {number}"
        if not isinstance(start, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
            raise RulesError(f"{where}: key 'from' must be a month written YYYY-MM, not {start!r}")
        month = date(int(start[:4]), int(start[5:]), 1)
        previous = book[-1].version_from
        if previous is not None and month <= previous:
            raise RulesError(f"{where} (from {start}): key 'from' must come after the version before it "
                             f"({previous:%Y-%m})")
        where = f"{where} (from {start})"
        if not table:
            raise RulesError(f"{where}: changes nothing; give the keys it changes")
        changes: list[str] = []
        current = _apply_version(current, table, "", where, changes)
        try:
            rules = parse_rules(current)
        except RulesError as exc:
            raise RulesError(f"{where}: {exc}") from None
        book.append(replace(rules, version=number, version_from=month, version_changes=tuple(changes)))
    return RuleBook(tuple(book))


def _apply_version(base: dict, change: dict, where: str, version: str, changes: list[str]) -> dict:
    """`base` with the keys of `change` replaced, table by table; levels are named by their key
    (`[version.levels.certified]`). Every key changed must exist in `base` (no new level,
    requirement or activity) and may not be one that reading the inbox depends on."""
    out = dict(base)
    for key, value in change.items():
        name = f"{where}.{key}" if where else key
        pattern = re.sub(r"^(levels|activities)\.[^.]+\.", r"\1.*.", name)
        if pattern in FIXED_IN_VERSIONS:
            raise RulesError(f"{version}: key '{name}' cannot change in a version: inputs are read "
                             "the same way in every month")
        if key not in base:
            raise RulesError(f"{version}: unknown key '{name}' (a version changes keys the rules file has)")
        old = base[key]
        if name == "levels":
            if not isinstance(value, dict):
                raise RulesError(f"{version}: key 'levels' must be tables named by level key, "
                                 "e.g. [version.levels.certified]")
            levels = list(old)
            keys = [lv.get("key") for lv in levels]
            for level_key, level_change in value.items():
                if level_key not in keys:
                    raise RulesError(f"{version}: unknown key 'levels.{level_key}' (levels: {', '.join(map(str, keys))})")
                if not isinstance(level_change, dict):
                    raise RulesError(f"{version}: key 'levels.{level_key}' must be a table")
                i = keys.index(level_key)
                levels[i] = _apply_version(levels[i], level_change, f"levels.{level_key}", version, changes)
            out[key] = levels
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _apply_version(old, value, name, version, changes)
        else:
            out[key] = value
            changes.append(f"{name} = {json.dumps(value, ensure_ascii=False, default=str)}")
    return out


_NUMBER = (int, float)


def _get(raw: dict, key: str, kind, where: str):
    name = f"{where}.{key}" if where else key
    if key not in raw:
        raise RulesError(f"missing key '{name}'")
    value = raw[key]
    if kind is float:
        ok = isinstance(value, _NUMBER) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        expected = {float: "a number", int: "a whole number", str: "text", bool: "true or false",
                    dict: "a table", list: "a list"}[kind]
        raise RulesError(f"key '{name}' must be {expected}, not {value!r}")
    return value


def _no_extra(raw: dict, allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            name = f"{where}.{key}" if where else key
            raise RulesError(f"unknown key '{name}'")


def _optional_date(raw: dict, key: str, where: str) -> date | None:
    value = raw.get(key, "")
    name = f"{where}.{key}"
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise RulesError(f"key '{name}' must be a date (YYYY-MM-DD) or \"\", not {value!r}")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RulesError(f"key '{name}' must be a date (YYYY-MM-DD), not {value!r}") from None


def _check_partner_column(key: str, kind: str, where: str) -> None:
    """R6: a "yes" or "count" requirement is read from the partners column of its key; a key
    with no such column would never be met, so it is refused, naming the columns there are."""
    from .inbox.kinds import KINDS  # the input contract; imported late (the inbox reads rules)

    if kind == "commitment":  # R7 reads sales_commitment_usd and the partner's sales
        return
    columns = [f.name for f in KINDS["partners"].fields if f.type == kind]
    if key not in columns:
        raise RulesError(f"key '{where}': no partners column '{key}' holds a {kind!r} value to check, so it "
                         f"could never be met; {kind!r} columns are: {', '.join(columns)}")


def parse_rules(raw: dict) -> Rules:
    """Build Rules from parsed TOML, refusing anything that is not exactly understood."""
    _no_extra(raw, {"levels", "requirements", "points", "bonus", "activities", "commitment",
                    "certificates", "first_sale", "nfr", "leads", "coop", "limits"}, "")

    requirements = []
    for key, spec in _get(raw, "requirements", dict, "").items():
        where = f"requirements.{key}"
        if not isinstance(spec, dict):
            raise RulesError(f"key '{where}' must be a table")
        _no_extra(spec, {"label", "kind"}, where)
        kind = _get(spec, "kind", str, where)
        if kind not in ("yes", "count", "commitment"):
            raise RulesError(f"key '{where}.kind' must be \"yes\", \"count\" or \"commitment\", not {kind!r}")
        requirements.append(Requirement(key, _get(spec, "label", str, where), kind))
        _check_partner_column(key, kind, where)
    by_key = {r.key: r for r in requirements}

    levels_raw = _get(raw, "levels", list, "")
    if len(levels_raw) < 2:
        raise RulesError("key 'levels' must list at least two levels")
    levels = []
    for i, spec in enumerate(levels_raw):
        where = f"levels[{i}]"
        if not isinstance(spec, dict):
            raise RulesError(f"key '{where}' must be a table")
        _no_extra(spec, {"key", "name", "threshold", "margin", "nfr_edition", "requirements",
                         "benefits"}, where)
        reqs = _get(spec, "requirements", dict, where)
        for rkey, rvalue in reqs.items():
            name = f"{where}.requirements.{rkey}"
            if rkey not in by_key:
                raise RulesError(f"unknown key '{name}' (not in [requirements])")
            if by_key[rkey].kind == "count":
                if not isinstance(rvalue, int) or isinstance(rvalue, bool) or rvalue < 0:
                    raise RulesError(f"key '{name}' must be a whole number of people")
            elif not isinstance(rvalue, bool):
                raise RulesError(f"key '{name}' must be true or false")
        benefits = _get(spec, "benefits", list, where)
        if not all(isinstance(b, str) for b in benefits):
            raise RulesError(f"key '{where}.benefits' must be a list of text")
        margin = float(_get(spec, "margin", float, where))
        if not 0 <= margin <= 1:
            raise RulesError(f"key '{where}.margin' must be a fraction between 0 and 1, not {margin}")
        levels.append(Level(
            key=_get(spec, "key", str, where), name=_get(spec, "name", str, where),
            threshold=_get(spec, "threshold", int, where), margin=margin,
            nfr_edition=_get(spec, "nfr_edition", str, where), requirements=dict(reqs),
            benefits=tuple(benefits), rank=i + 1))
    if levels[0].threshold != 0:
        raise RulesError("key 'levels[0].threshold' must be 0: partners start at the lowest level")
    for a, b in zip(levels, levels[1:]):
        if b.threshold <= a.threshold:
            raise RulesError(f"key 'levels[{b.rank - 1}].threshold' must be above the level before it")
    level_keys = [lv.key for lv in levels]
    if len(set(level_keys)) != len(level_keys):
        raise RulesError("key 'levels': level keys must be different")
    first_words = [lv.name.split()[0].casefold() for lv in levels]
    if len(set(first_words)) != len(first_words):
        raise RulesError("key 'levels': level names must differ in their first word")

    def level_key(table: dict, key: str, where: str) -> str:
        value = _get(table, key, str, where)
        if value not in level_keys:
            raise RulesError(f"key '{where}.{key}' must be one of {', '.join(level_keys)}, not {value!r}")
        return value

    activities = []
    for key, spec in _get(raw, "activities", dict, "").items():
        where = f"activities.{key}"
        if not isinstance(spec, dict):
            raise RulesError(f"key '{where}' must be a table")
        _no_extra(spec, {"label", "points", "needs_approval", "aliases"}, where)
        aliases = spec.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise RulesError(f"key '{where}.aliases' must be a list of text")
        activities.append(Activity(key, _get(spec, "label", str, where),
                                   _get(spec, "points", int, where),
                                   _get(spec, "needs_approval", bool, where), tuple(aliases)))

    points = _get(raw, "points", dict, "")
    _no_extra(points, {"usd_per_point"}, "points")
    bonus = _get(raw, "bonus", dict, "")
    _no_extra(bonus, {"level", "points", "per_usd", "from", "until"}, "bonus")
    commitment = _get(raw, "commitment", dict, "")
    _no_extra(commitment, {"level"}, "commitment")
    certs = _get(raw, "certificates", dict, "")
    _no_extra(certs, {"valid_months", "downgrade"}, "certificates")
    downgrade = _get(certs, "downgrade", str, "certificates")
    if downgrade not in ("expiry", "month_end"):
        raise RulesError(f"key 'certificates.downgrade' must be \"expiry\" or \"month_end\", not {downgrade!r}")
    first = _get(raw, "first_sale", dict, "")
    _no_extra(first, {"product", "sale_type", "discount"}, "first_sale")
    nfr = _get(raw, "nfr", dict, "")
    _no_extra(nfr, {"first_sale_level"}, "nfr")
    leads = _get(raw, "leads", dict, "")
    _no_extra(leads, {"level"}, "leads")
    coop = _get(raw, "coop", dict, "")
    _no_extra(coop, {"min_level", "share"}, "coop")
    limits = _get(raw, "limits", dict, "")
    _no_extra(limits, {"max_amount_usd"}, "limits")

    usd_per_point = float(_get(points, "usd_per_point", float, "points"))
    per_usd = float(_get(bonus, "per_usd", float, "bonus"))
    if usd_per_point <= 0 or per_usd <= 0:
        raise RulesError("keys 'points.usd_per_point' and 'bonus.per_usd' must be above 0")
    return Rules(
        levels=tuple(levels), requirements=tuple(requirements), activities=tuple(activities),
        usd_per_point=usd_per_point,
        bonus_level=level_key(bonus, "level", "bonus"),
        bonus_points=_get(bonus, "points", int, "bonus"), bonus_per_usd=per_usd,
        bonus_from=_optional_date(bonus, "from", "bonus"),
        bonus_until=_optional_date(bonus, "until", "bonus"),
        commitment_level=level_key(commitment, "level", "commitment"),
        valid_months=_get(certs, "valid_months", int, "certificates"), downgrade=downgrade,
        first_sale_product=_get(first, "product", str, "first_sale"),
        first_sale_type=_get(first, "sale_type", str, "first_sale"),
        first_sale_discount=float(_get(first, "discount", float, "first_sale")),
        nfr_first_sale_level=level_key(nfr, "first_sale_level", "nfr"),
        leads_level=level_key(leads, "level", "leads"),
        coop_min_level=level_key(coop, "min_level", "coop"),
        coop_share=float(_get(coop, "share", float, "coop")),
        max_amount_usd=float(_get(limits, "max_amount_usd", float, "limits")),
    )
