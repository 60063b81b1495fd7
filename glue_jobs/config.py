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

import dataclasses
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = {"name", "email", "date_parts", "date", "identifier", "code", "category", "text"}
DATE_FORMATS = {"YYYYMMDD", "YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY"}
SWAPPED_NAMES = "swapped_names"
TOP_KEYS = {"description", "id_column", "delimiter", "fields", "blocking_rules", "training",
            "threshold_match_probability"}
TRAINING_KEYS = {"prior_rules", "prior_recall", "em_blocking_rules"}
MAX_SETTINGS_BYTES = 1 << 20
# A field's name becomes a column of the job's SQL (and of Splink's: <name>_l, tf_<name>):
# lowercase (DuckDB and Spark ignore case), and no word DuckDB or Spark reserves.
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
RESERVED_WORDS = frozenset("""
all analyse analyze and anti any array as asc asof asymmetric at authorization binary both by case cast
check collate collation column columns concurrently constraint create cross current_date current_time
current_timestamp current_user default deferrable desc describe distinct do else end escape except false
fetch filter for foreign freeze from full generated glob grant group having ilike in initially inner
intersect interval into is isnull join lambda lateral leading left like limit map natural not notnull null
offset on only or order outer overlaps pivot pivot_longer pivot_wider placing positional primary qualify
references returning right select semi session_user show similar some struct summarize symmetric table
tablesample then time to trailing true try_cast tuple union unique unknown unpack unpivot user using
variadic verbose when where window with
""".split())
# columns the job itself adds next to the fields
GENERATED_COLUMNS = frozenset({"unique_id", "match_id", "cluster_id", "full_name", "name", "match_probability",
                               "match_weight", "source_dataset"})


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

    def renamed(self, columns: dict[str, str]) -> DedupConfig:
        """The same settings on renamed input columns (``columns``: input name -> new name)."""
        return dataclasses.replace(
            self, id_column=columns[self.id_column],
            fields=tuple(dataclasses.replace(f, columns={r: columns[c] for r, c in f.columns.items()})
                         for f in self.fields))

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_name_pair(self) -> bool:
        fn, ln = self.field("first_name"), self.field("last_name")
        return bool(fn and ln and fn.kind == ln.kind == "name")


_SQL_COLUMN = re.compile(r"\b[lr]\.(\w+)")


def _rules(raw: Any, key: str, known: set[str], where: str = "<dict>") -> tuple[Any, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsFileError(f"settings {where}: key '{key}' must be a non-empty list of rules")
    out: list[Any] = []
    for i, rule in enumerate(raw):
        if isinstance(rule, str):
            if rule != SWAPPED_NAMES and "l." not in rule:
                raise SettingsFileError(
                    f"settings {where}: key '{key}'[{i}]: a string rule must be SQL on l./r. "
                    f"columns or '{SWAPPED_NAMES}', got {rule!r}")
            unknown = sorted({c for c in _SQL_COLUMN.findall(rule) if c not in known})
            if rule != SWAPPED_NAMES and unknown:
                raise SettingsFileError(
                    f"settings {where}: key '{key}'[{i}] uses unknown column(s) {unknown}; "
                    f"standardised columns are {sorted(known)}")
            if ";" in rule:
                raise SettingsFileError(f"settings {where}: key '{key}'[{i}]: a rule is one SQL condition, without ';'")
            out.append(rule)
        elif isinstance(rule, list) and rule and all(isinstance(c, str) for c in rule):
            unknown = [c for c in rule if c not in known]
            if unknown:
                raise SettingsFileError(
                    f"settings {where}: key '{key}'[{i}] uses unknown column(s) {unknown}; "
                    f"standardised columns are {sorted(known)}")
            out.append(tuple(rule))
        else:
            raise SettingsFileError(f"settings {where}: key '{key}'[{i}] must be a list of column names or SQL")
    return tuple(out)


def standardised_columns(fields: tuple[Field, ...]) -> set[str]:
    return {f.name for f in fields} | _generated_columns(fields)


def _generated_columns(fields: tuple[Field, ...]) -> set[str]:
    """Standardised columns made from fields, besides the fields' own."""
    cols: set[str] = set()
    for f in fields:
        if f.kind == "email":
            cols |= {f"{f.name}_user", f"{f.name}_digits", f"{f.name}_alnum"}
        if f.kind in ("date", "date_parts"):
            cols |= {f"{f.name}_y", f"{f.name}_m", f"{f.name}_d"}
        if f.kind == "identifier":
            cols.add(f"{f.name}_stem")
    if {"first_name", "last_name"} <= {f.name for f in fields}:
        cols |= {"full_name", "first_name_nicks"}
    return cols


def load_config(source: str | Path | dict) -> DedupConfig:
    """Load and validate a settings file (path) or an already parsed dict."""
    if isinstance(source, dict):
        return parse_config(source, "<dict>")
    return config_from_text(read_settings_text(Path(source)), str(source))


def config_from_bytes(data: bytes, where: str) -> DedupConfig:
    """A settings file's bytes (e.g. an S3 object's body) checked as ``load_config`` checks a file."""
    if len(data) > MAX_SETTINGS_BYTES:
        raise SettingsFileError(f"settings file {where} is {len(data)} bytes; at most {MAX_SETTINGS_BYTES}")
    return config_from_text(_decode(data, where), where)


def config_from_text(text: str, where: str) -> DedupConfig:
    """JSON text of a settings file, checked: valid JSON, no key twice, then ``parse_config``."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise SettingsFileError(f"settings file {where} is not valid JSON: {e.msg} "
                            f"(line {e.lineno}, column {e.colno})") from None
    except _DuplicateKey as e:
        raise SettingsFileError(f"settings file {where}: key {e.args[0]!r} appears twice in one object; "
                            "keep one") from None
    except RecursionError:
        raise SettingsFileError(f"settings file {where}: nested too deeply") from None
    return parse_config(raw, where)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def read_settings_text(path: Path) -> str:
    """The settings file's text: a regular UTF-8 file of at most 1 MB, else SettingsFileError."""
    where = str(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise SettingsFileError(f"settings {where} is a folder; pass a settings JSON file")
        if not stat.S_ISREG(st.st_mode):
            raise SettingsFileError(f"settings {where} is not a regular file; pass a settings JSON file")
        if st.st_size > MAX_SETTINGS_BYTES:
            raise SettingsFileError(f"settings file {where} is {st.st_size} bytes; a settings file is at most "
                                f"{MAX_SETTINGS_BYTES} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SettingsFileError(f"settings file not found: {where}") from None
    except OSError as e:  # a symlink loop, no permission, a name too long...
        raise SettingsFileError(f"settings file {where} cannot be read: {e.strerror or e}") from None
    return _decode(data, where)


def _decode(data: bytes, where: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SettingsFileError(f"settings file {where}: bad encoding, not UTF-8 (byte 0x{data[e.start]:02x} on "
                            f"line {line}); save it as UTF-8") from None


def _field_name_problem(name: str) -> str | None:
    if not FIELD_NAME.fullmatch(name):
        return "must be 1-40 lowercase letters, digits and '_', starting with a letter"
    if name in RESERVED_WORDS:
        return "is a reserved SQL word; choose another name (e.g. '{}_value')".format(name)
    if name in GENERATED_COLUMNS:
        return "is a column name the job makes itself; choose another name"
    return None


def parse_config(raw: dict, where: str = "<dict>") -> DedupConfig:
    if not isinstance(raw, dict):
        raise SettingsFileError(f"settings {where}: top level must be an object")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise SettingsFileError(f"settings {where}: unknown key(s) {unknown}; known keys are {sorted(TOP_KEYS)}")
    id_column = raw.get("id_column")
    if not isinstance(id_column, str) or not id_column.strip():
        raise SettingsFileError(f"settings {where}: 'id_column' must name the input's unique id column")
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise SettingsFileError(f"settings {where}: 'fields' must map field names to specs")
    fields = []
    taken: set[str] = set()
    for name, spec in raw_fields.items():
        problem = _field_name_problem(name)
        if problem:
            raise SettingsFileError(f"settings {where}: field name {name!r} (under 'fields') {problem}")
        if not isinstance(spec, dict):
            raise SettingsFileError(f"settings {where}: fields.{name} must be an object with 'kind' and 'column'")
        kind = spec.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise SettingsFileError(f"settings {where}: fields.{name}.kind must be one of {sorted(KINDS)}")
        if kind == "date_parts":
            roles: tuple[str, ...] = ("day", "month", "year")
        else:
            roles = ("column",)
        allowed = {"kind", *roles} | ({"format"} if kind == "date" else set())
        extra = sorted(set(spec) - allowed)
        if extra:
            raise SettingsFileError(f"settings {where}: fields.{name} has unknown key(s) {extra}; "
                                f"a '{kind}' field takes {sorted(allowed)}")
        cols = {}
        for role in roles:
            col = spec.get(role)
            if not isinstance(col, str) or not col.strip():
                raise SettingsFileError(f"settings {where}: fields.{name}.{role} must name an input column")
            cols[role] = col
        fmt = spec.get("format")
        if kind == "date" and fmt not in DATE_FORMATS:
            raise SettingsFileError(f"settings {where}: fields.{name}.format must be one of {sorted(DATE_FORMATS)}")
        fields.append(Field(name, kind, cols, fmt))
        taken.add(name)
    fields_t = tuple(fields)
    clash = sorted(_generated_columns(fields_t) & taken)
    if clash:
        raise SettingsFileError(f"settings {where}: field name(s) {clash} are columns the job makes from "
                            "other fields; choose other names")
    known = standardised_columns(fields_t)
    threshold = raw.get("threshold_match_probability", 0.95)
    if not _number(threshold) or not 0 < threshold < 1:
        raise SettingsFileError(f"settings {where}: 'threshold_match_probability' must be a number in (0, 1), "
                            f"got {threshold!r}")
    training = raw.get("training", {})
    if not isinstance(training, dict):
        raise SettingsFileError(f"settings {where}: 'training' must be an object with 'prior_rules', "
                            f"'em_blocking_rules' and optionally 'prior_recall', got {type(training).__name__}")
    unknown = sorted(set(training) - TRAINING_KEYS)
    if unknown:
        raise SettingsFileError(f"settings {where}: unknown key(s) {unknown} under 'training'; "
                            f"known keys are {sorted(TRAINING_KEYS)}")
    recall = training.get("prior_recall", 0.8)
    if not _number(recall) or not 0 < recall <= 1:
        raise SettingsFileError(f"settings {where}: 'training.prior_recall' must be a number in (0, 1], got {recall!r}")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n" \
            or not (delimiter.isprintable() or delimiter == "\t") or delimiter.isalnum():
        raise SettingsFileError(f"settings {where}: 'delimiter' must be one character such as ',' ';' '|' or a tab "
                            f"(not a letter, digit, quote or line break), got {delimiter!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SettingsFileError(f"settings {where}: 'description' must be a string")
    return DedupConfig(
        id_column=id_column,
        fields=fields_t,
        blocking_rules=_rules(raw.get("blocking_rules"), "blocking_rules", known, where),
        prior_rules=_rules(training.get("prior_rules"), "training.prior_rules", known, where),
        prior_recall=float(recall),
        em_blocking_rules=_rules(training.get("em_blocking_rules"), "training.em_blocking_rules", known, where),
        threshold_match_probability=float(threshold),
        delimiter=delimiter,
        description=description,
        source=where,
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
