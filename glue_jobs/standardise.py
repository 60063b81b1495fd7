"""Standardise: the raw input's columns as the comparable columns the model reads.

One SQL expression per field kind (see ``glue_jobs/config.py``), written once
for every engine: where DuckDB and Spark differ, the engine's dialect methods
(``quote``, ``regexp_replace_all``, ``try_cast_int``) write the SQL.
"""
from __future__ import annotations

from glue_jobs.config import DedupConfig, Field
from glue_jobs.engines import Engine


def nullif_blank(expr: str) -> str:
    return f"NULLIF(trim({expr}), '')"


def _std_expressions(engine: Engine, f: Field) -> dict[str, str]:
    """Standardised column(s) for one field, as SQL over the raw input."""
    q = lambda role: engine.quote(f.columns[role])  # noqa: E731
    ra = engine.regexp_replace_all
    if f.kind == "name":
        return {f.name: nullif_blank(ra(f"lower({q('column')})", r"[^\p{L}]", ""))}
    if f.kind == "email":
        # lower case, "+tag" dropped; dots dropped only where the provider ignores
        # them (Gmail): elsewhere "a.b@x" and "ab@x" are two mailboxes
        e = f"lower(trim({q('column')}))"
        raw_user = ra(ra(f"split_part({e}, '@', 1)", r"\+.*$", ""), r"[^\p{L}\p{N}._-]", "")
        dom = f"split_part({e}, '@', 2)"
        gmail = f"{dom} IN ('gmail.com', 'googlemail.com')"
        user = f"CASE WHEN {gmail} THEN replace({raw_user}, '.', '') ELSE {raw_user} END"
        valid = f"{e} LIKE '%_@_%'"
        return {
            f.name: f"CASE WHEN {valid} THEN {nullif_blank(f'concat({user}, {chr(39)}@{chr(39)}, {dom})')} END",
            f"{f.name}_user": f"CASE WHEN {valid} THEN {nullif_blank(user)} END",
            f"{f.name}_nodots": f"CASE WHEN {valid} THEN concat(replace({raw_user}, '.', ''), '@', {dom}) END",
            f"{f.name}_digits": ra(raw_user, "[^0-9]", ""),
        }
    if f.kind == "date_parts":
        # "7", " 07 " and "7.0" (a spreadsheet's float) are all 7; anything else is NULL
        d, m, y = (engine.try_cast_int(ra(f"trim({q(r)})", r"\.0*$", "")) for r in ("day", "month", "year"))
        ok = f"{d} BETWEEN 1 AND 31 AND {m} BETWEEN 1 AND 12 AND {y} BETWEEN 1000 AND 2999"
        s = lambda x, n: f"lpad(CAST({x} AS STRING), {n}, '0')"  # noqa: E731
        return {f.name: f"CASE WHEN {ok} THEN concat({s(y, 4)}, '-', {s(m, 2)}, '-', {s(d, 2)}) END"}
    if f.kind == "date":
        digits = ra(q("column"), "[^0-9]", "")
        pos = {"YYYYMMDD": (1, 5, 7), "YYYY-MM-DD": (1, 5, 7),
               "DD/MM/YYYY": (5, 3, 1), "MM/DD/YYYY": (5, 1, 3)}[f.date_format]
        y, m, d = (f"substr({digits}, {p}, {n})" for p, n in zip(pos, (4, 2, 2)))
        return {f.name: f"CASE WHEN length({digits}) = 8 THEN concat({y}, '-', {m}, '-', {d}) END"}
    if f.kind == "identifier":
        return {f.name: nullif_blank(f"lower({q('column')})")}
    if f.kind == "code":
        return {f.name: nullif_blank(ra(f"lower({q('column')})", r"[^\p{L}\p{N}]", ""))}
    # category, text
    return {f.name: nullif_blank(ra(f"lower({q('column')})", r"\s+", " "))}


def standardise_sql(engine: Engine, cfg: DedupConfig, input_table: str) -> str:
    exprs: dict[str, str] = {"unique_id": f"CAST({engine.quote(cfg.id_column)} AS STRING)"}
    for f in cfg.fields:
        exprs.update(_std_expressions(engine, f))
    inner = ",\n  ".join(f"{e} AS {name}" for name, e in exprs.items())
    extra = ""
    if cfg.has_name_pair:
        extra = (", CASE WHEN first_name IS NOT NULL AND last_name IS NOT NULL "
                 "THEN concat(first_name, ' ', last_name) END AS full_name")
    return f"SELECT *{extra} FROM (SELECT\n  {inner}\nFROM {input_table}) s"
