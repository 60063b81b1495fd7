"""The job's settings file: which input column plays which part, and the model's rules.

A settings file is JSON (see ``settings/tpcds_customer.json``, the default, and
``benchmarks/settings/febrl.json``). Pure stdlib so that the Glue wrapper can
load it before anything heavy is imported.

Fields have a *kind*, which decides how they are standardised and compared:

- ``name``: case, accents kept, everything but letters dropped. A ``first_name``
  and a ``last_name`` field together get one joint comparison that also
  recognises swapped names (also with a typo in one) and nicknames (Tim /
  Timothy, from the ``nicknames`` package, ``glue_jobs/name_variants.py``),
  with term-frequency adjustment on the full name.
- ``email``: lower case, ``+tag`` removed, dots removed for Gmail (which ignores
  them); compared on the full address, then on the address without dots, then
  on the user name alone (term frequencies), then with one typo when the
  digits in the user name agree.
- ``date_parts`` (``day``/``month``/``year`` columns) or ``date`` (one column,
  ``format`` one of YYYYMMDD, YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY): made into
  ``YYYY-MM-DD``, and each part kept on its own (``<name>_y``, ``_m``, ``_d``);
  exact; one character off, one part off by one or day/month swapped; two parts
  equal and the third missing; else.
- ``identifier``: lower case, trimmed; exact, the same but for digits at the end
  (``<name>_stem``: ``jsmith`` / ``jsmith7``), else.
- ``code``: letters and digits only; exact, one character off, else.
- ``category``: lower case; exact with term frequencies, else.
- ``text``: lower case, single spaces; exact with term frequencies, two edits, else.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = {"name", "email", "date_parts", "date", "identifier", "code", "category", "text"}
DATE_FORMATS = {"YYYYMMDD", "YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY"}
SWAPPED_NAMES = "swapped_names"


class SettingsFileError(ValueError):
    """The settings file is not usable; the message names the key."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    columns: dict[str, str]  # role -> input column ("column", or "day"/"month"/"year")
    date_format: str | None = None


@dataclass(frozen=True)
class DedupConfig:
    id_column: str
    fields: tuple[Field, ...]
    blocking_rules: tuple[Any, ...]
    prior_rules: tuple[Any, ...]
    prior_recall: float
    em_blocking_rules: tuple[Any, ...]
    threshold_match_probability: float
    delimiter: str = ","
    description: str = ""
    source: str = field(default="<dict>", compare=False)

    @property
    def required_columns(self) -> list[str]:
        cols = [self.id_column]
        for f in self.fields:
            cols += [c for c in f.columns.values() if c not in cols]
        return cols

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_name_pair(self) -> bool:
        fn, ln = self.field("first_name"), self.field("last_name")
        return bool(fn and ln and fn.kind == ln.kind == "name")


def _rules(raw: Any, key: str, known: set[str]) -> tuple[Any, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsFileError(f"settings key '{key}' must be a non-empty list of rules")
    out: list[Any] = []
    for i, rule in enumerate(raw):
        if isinstance(rule, str):
            if rule != SWAPPED_NAMES and "l." not in rule:
                raise SettingsFileError(
                    f"settings key '{key}'[{i}]: a string rule must be SQL on l./r. "
                    f"columns or '{SWAPPED_NAMES}', got {rule!r}")
            out.append(rule)
        elif isinstance(rule, list) and rule and all(isinstance(c, str) for c in rule):
            unknown = [c for c in rule if c not in known]
            if unknown:
                raise SettingsFileError(
                    f"settings key '{key}'[{i}] uses unknown column(s) {unknown}; "
                    f"standardised columns are {sorted(known)}")
            out.append(tuple(rule))
        else:
            raise SettingsFileError(f"settings key '{key}'[{i}] must be a list of column names or SQL")
    return tuple(out)


def standardised_columns(fields: tuple[Field, ...]) -> set[str]:
    cols = {f.name for f in fields}
    for f in fields:
        if f.kind == "email":
            cols |= {f"{f.name}_user", f"{f.name}_digits", f"{f.name}_alnum"}
        if f.kind in ("date", "date_parts"):
            cols |= {f"{f.name}_y", f"{f.name}_m", f"{f.name}_d"}
        if f.kind == "identifier":
            cols.add(f"{f.name}_stem")
    if {"first_name", "last_name"} <= cols:
        cols |= {"full_name", "first_name_nicks"}
    return cols


def load_config(source: str | Path | dict) -> DedupConfig:
    """Load and validate a settings file (path) or an already parsed dict."""
    if isinstance(source, dict):
        raw, where = source, "<dict>"
    else:
        where = str(source)
        try:
            raw = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsFileError(f"settings file not found: {where}") from None
        except json.JSONDecodeError as e:
            raise SettingsFileError(f"settings file {where} is not valid JSON: {e}") from None
    return parse_config(raw, where)


def parse_config(raw: dict, where: str = "<dict>") -> DedupConfig:
    if not isinstance(raw, dict):
        raise SettingsFileError(f"settings {where}: top level must be an object")
    id_column = raw.get("id_column")
    if not isinstance(id_column, str) or not id_column:
        raise SettingsFileError(f"settings {where}: 'id_column' must name the input's unique id column")
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise SettingsFileError(f"settings {where}: 'fields' must map field names to specs")
    fields = []
    for name, spec in raw_fields.items():
        if not name.isidentifier() or name in ("unique_id", "match_id"):
            raise SettingsFileError(f"settings {where}: field name {name!r} is not a usable column name")
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if kind not in KINDS:
            raise SettingsFileError(f"settings {where}: fields.{name}.kind must be one of {sorted(KINDS)}")
        if kind == "date_parts":
            roles = ("day", "month", "year")
        else:
            roles = ("column",)
        cols = {}
        for role in roles:
            col = spec.get(role)
            if not isinstance(col, str) or not col:
                raise SettingsFileError(f"settings {where}: fields.{name}.{role} must name an input column")
            cols[role] = col
        fmt = spec.get("format")
        if kind == "date" and fmt not in DATE_FORMATS:
            raise SettingsFileError(f"settings {where}: fields.{name}.format must be one of {sorted(DATE_FORMATS)}")
        fields.append(Field(name, kind, cols, fmt))
    fields_t = tuple(fields)
    known = standardised_columns(fields_t)
    threshold = raw.get("threshold_match_probability", 0.95)
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise SettingsFileError(f"settings {where}: 'threshold_match_probability' must be in (0, 1)")
    training = raw.get("training", {})
    recall = training.get("prior_recall", 0.8)
    if not isinstance(recall, (int, float)) or not 0 < recall <= 1:
        raise SettingsFileError(f"settings {where}: 'training.prior_recall' must be in (0, 1]")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise SettingsFileError(f"settings {where}: 'delimiter' must be one character")
    return DedupConfig(
        id_column=id_column,
        fields=fields_t,
        blocking_rules=_rules(raw.get("blocking_rules"), "blocking_rules", known),
        prior_rules=_rules(training.get("prior_rules"), "training.prior_rules", known),
        prior_recall=float(recall),
        em_blocking_rules=_rules(training.get("em_blocking_rules"), "training.em_blocking_rules", known),
        threshold_match_probability=float(threshold),
        delimiter=delimiter,
        description=str(raw.get("description", "")),
        source=where,
    )
