"""Standardise: the raw input's columns as the comparable columns the model reads.

One SQL expression per field kind (see ``glue_jobs/config.py``), written once
for every engine: where DuckDB and Spark differ, the engine's dialect methods
(``quote``, ``regexp_replace_all``, ``try_cast_int``) write the SQL.
"""
from __future__ import annotations

from glue_jobs.config import DedupConfig, Field
from glue_jobs.engines import Engine

NICKNAME_TABLE = "__dedup_nicknames"
# Each standardised record's integer key, Splink's unique id: the pairs, the
# predictions and the clusters join on it (a string id cost 4 times the CPU per
# join), and ``unique_id`` (the input's id) is read only where a record's id is
# written out. A hash of the id, so that, as with the ids themselves, the records
# Splink samples for training and which record of a pair is "l" do not depend on
# the order of the file's rows; distinct within a table Splink reads
# (``create_standardised``).
RID = "__dedup_rid"


def nullif_blank(engine: Engine, expr: str) -> str:
    """``expr`` without space separators at either end, NULL if nothing is left."""
    return f"NULLIF({engine.strip(expr)}, '')"


def lower(expr: str) -> str:
    """Lower case, the same on every engine. Spark lowers as Java does: a word-final
    capital sigma becomes "ς" and "İ" becomes "i" and a combining dot; DuckDB gives
    "σ" and "i". Both are mapped to DuckDB's, so "ΣΑΣ" and "σας" are one name."""
    return f"replace(replace(lower({expr}), 'i\u0307', 'i'), '\u03c2', '\u03c3')"


# Regular expressions mean the same in RE2 (DuckDB) and Java (Spark) only when written
# out: Java's \s also takes a vertical tab, its "." no "\r" either, and its "$" also
# matches before a final line break. The meanings RE2 gives them:
WS = r"[\t\n\f\r ]"  # \s
ANY = r"[^\n]"  # .
END = r"\z"  # $, the end of the text


def _replace_where_present(engine: Engine, expr: str, char: str, pattern: str, repl: str) -> str:
    """``regexp_replace_all(expr, pattern, repl)`` for a ``pattern`` that can only match
    where ``expr`` holds ``char``: the same value, with the regular expression run
    only on the few values that hold it (1M records: 0.12 s CPU less per column)."""
    return (f"CASE WHEN instr({expr}, '{char}') > 0 THEN {engine.regexp_replace_all(expr, pattern, repl)} "
            f"ELSE {expr} END")


DATE_KINDS = ("date_parts", "date")


def _std_expressions(engine: Engine, f: Field, composed: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Standardised column(s) for one field: ``(pre, std)``.

    ``pre``: intermediate columns over the raw input, computed once each;
    ``std``: the standardised columns, over the raw input and ``pre``'s names.
    (An expression used three times is written once: the engines do not share
    common subexpressions across output columns, and the e-mail's regular
    expressions were most of the standardising time.) ``composed``: input
    column -> the name of its text in Unicode's composed form, which text
    fields read instead (``Engine.nfc``: "José" typed with a combining accent
    is "José").
    """
    col = lambda role: engine.quote(f.columns[role])  # noqa: E731
    q = lambda role: composed[f.columns[role]]  # noqa: E731
    ra = engine.regexp_replace_all
    p = lambda x: f"__pre_{f.name}_{x}"  # noqa: E731
    if f.kind == "name":
        raw = q("column")
        if f.name == "first_name":
            # a middle initial typed into the first-name field: "Elisabeth P.", "Jason S",
            # "JasonS." are Elisabeth and Jason (a whole-string match is tested as "the
            # pattern replaces it all", which every engine's regexp_replace can do)
            spaced, glued = rf"\p{{L}}\p{{L}}{WS}+\p{{L}}\.?{WS}*{END}", rf"\p{{Ll}}\p{{Lu}}\.{WS}*{END}"
            spaced_cut, glued_cut = ra(raw, rf"{WS}+\p{{L}}\.?{WS}*{END}", ""), ra(raw, rf"\p{{Lu}}\.{WS}*{END}", "")
            raw = (f"CASE WHEN {ra(raw, f'^{ANY}*' + spaced, '')} = '' THEN {spaced_cut}"
                   f" WHEN {ra(raw, f'^{ANY}*' + glued, '')} = '' THEN {glued_cut} ELSE {raw} END")
        return {}, {f.name: nullif_blank(engine, ra(lower(raw), r"[^\p{L}]+", ""))}
    if f.kind == "email":
        # lower case, "+tag" dropped; dots dropped only where the provider ignores
        # them (Gmail): elsewhere "a.b@x" and "ab@x" are two mailboxes
        e = lower(engine.strip(q("column")))
        pre = {
            p("raw_user"): ra(_replace_where_present(engine, f"split_part({e}, '@', 1)", "+", rf"\+{ANY}*{END}", ""),
                             r"[^\p{L}\p{N}._-]+", ""),
            p("dom"): f"split_part({e}, '@', 2)",
            p("valid"): f"{e} LIKE '%_@_%'",
        }
        raw_user, dom, valid = p("raw_user"), p("dom"), p("valid")
        gmail = f"{dom} IN ('gmail.com', 'googlemail.com')"
        user = f"CASE WHEN {gmail} THEN replace({raw_user}, '.', '') ELSE {raw_user} END"
        alnum_user = ra(raw_user, r"[^\p{L}\p{N}]+", "")
        return pre, {
            f.name: f"CASE WHEN {valid} THEN {nullif_blank(engine, f'concat({user}, {chr(39)}@{chr(39)}, {dom})')} END",
            f"{f.name}_user": f"CASE WHEN {valid} THEN {nullif_blank(engine, user)} END",
            f"{f.name}_digits": ra(raw_user, "[^0-9]+", ""),
            f"{f.name}_alnum": f"CASE WHEN {valid} THEN concat({alnum_user}, '@', {dom}) END",
        }
    if f.kind in DATE_KINDS:
        if f.kind == "date_parts":
            # "7", " 07 " and "7.0" (a spreadsheet's float) are all 7; anything else is NULL
            d, m, y = (engine.try_cast_int(_replace_where_present(engine, engine.strip(col(r)), ".", rf"\.0*{END}", ""))
                       for r in ("day", "month", "year"))
        else:
            digits = ra(col("column"), "[^0-9]+", "")
            pos = {"YYYYMMDD": (1, 5, 7), "YYYY-MM-DD": (1, 5, 7),
                   "DD/MM/YYYY": (5, 3, 1), "MM/DD/YYYY": (5, 1, 3)}[f.date_format]
            y, m, d = (f"CASE WHEN length({digits}) = 8 THEN {engine.try_cast_int(f'substr({digits}, {p_}, {n})')} END"
                       for p_, n in zip(pos, (4, 2, 2)))
        # each part on its own (a record missing its day still has a month and a
        # year to compare), and the whole date where all three are valid
        pre = {p(part): f"CASE WHEN {x} BETWEEN {lo} AND {hi} THEN {x} END"
               for part, x, lo, hi in (("d", d, 1, 31), ("m", m, 1, 12), ("y", y, 1000, 2999))}
        d, m, y = p("d"), p("m"), p("y")
        s = lambda x, n: f"lpad(CAST({x} AS STRING), {n}, '0')"  # noqa: E731
        whole = (f"CASE WHEN {y} IS NOT NULL AND {m} IS NOT NULL AND {d} IS NOT NULL "
                 f"THEN concat({s(y, 4)}, '-', {s(m, 2)}, '-', {s(d, 2)}) END")
        return pre, {f.name: whole, f"{f.name}_y": y, f"{f.name}_m": m, f"{f.name}_d": d}
    if f.kind == "identifier":
        pre = {p("v"): nullif_blank(engine, lower(q("column")))}
        # the same login with other digits at the end: "jsmith", "jsmith7", "jsmith1975"
        return pre, {f.name: p("v"), f"{f.name}_stem": nullif_blank(engine, ra(p("v"), f"[0-9]+{END}", ""))}
    if f.kind == "code":
        return {}, {f.name: nullif_blank(engine, ra(lower(q("column")), r"[^\p{L}\p{N}]+", ""))}
    # category, text
    return {}, {f.name: nullif_blank(engine, ra(lower(q("column")), f"{WS}+", " "))}


def create_lookup_tables(engine: Engine, cfg: DedupConfig) -> None:
    """Tables ``standardise_sql`` joins: the first-name nickname table where there is a name pair."""
    if cfg.has_name_pair:
        from glue_jobs.name_variants import related_names

        engine.create_from_rows(NICKNAME_TABLE, ["name", "related"], related_names())


def create_standardised(engine: Engine, cfg: DedupConfig, input_table: str, name: str, *,
                        keyed_apart_from: str | None = None) -> None:
    """Create table ``name``: ``input_table`` standardised (the lookup tables it joins first),
    each record with a distinct ``RID``, distinct too from those of ``keyed_apart_from``
    (records standardised apart and scored together)."""
    create_lookup_tables(engine, cfg)
    engine.create(name, f"SELECT *, {engine.key62('unique_id')} AS {RID} "
                        f"FROM ({standardise_sql(engine, cfg, input_table)}) __std")
    tables = [name] if keyed_apart_from is None else [keyed_apart_from, name]
    keys = " UNION ALL ".join(f"SELECT {RID} FROM {t}" for t in tables)
    n, distinct = engine.row(f"SELECT count(*), count(DISTINCT {RID}) FROM ({keys}) k")
    if n != distinct:
        # two ids with one hash (1M ids: about 1 chance in 10 million; or a file made to
        # collide): numbered instead, after every other key
        before = 0 if keyed_apart_from is None else int(engine.scalar(f"SELECT max({RID}) FROM {keyed_apart_from}"))
        engine.renumber(name, RID, after=before)


def standardise_sql(engine: Engine, cfg: DedupConfig, input_table: str) -> str:
    """The standardised table, as SQL; run ``create_lookup_tables`` first."""
    pre: dict[str, str] = {}
    exprs: dict[str, str] = {"unique_id": f"CAST({engine.quote(cfg.id_column)} AS STRING)"}
    # each text column in its composed form, once: read three to six times by a field's
    # expressions, nfc() written into each cost 15 % more standardising time
    texts = list(dict.fromkeys(c for f in cfg.fields if f.kind not in DATE_KINDS for c in f.columns.values()))
    composed = {c: f"__pre_nfc_{i}" for i, c in enumerate(texts)}
    for f in cfg.fields:
        p, e = _std_expressions(engine, f, composed)
        pre.update(p)
        exprs.update(e)
    source = input_table
    if texts:
        nfc = ", ".join(f"{engine.nfc(engine.quote(c))} AS {composed[c]}" for c in texts)
        source = f"(SELECT *, {nfc} FROM {input_table}) __nfc"
    if pre:
        first = ",\n  ".join(f"{e} AS {name}" for name, e in pre.items())
        source = f"(SELECT *,\n  {first}\nFROM {source}) __pre"
    inner = ",\n  ".join(f"{e} AS {name}" for name, e in exprs.items())
    sql = f"SELECT\n  {inner}\nFROM {source}"
    if not cfg.has_name_pair:
        return sql
    # full_name for blocking and term frequencies; first_name_nicks: ",tim,timmy,"
    # for "timothy", so that a comparison can test a nickname with instr();
    # <email>_from_name: the e-mail's user name is only the person's name
    # ("mary.jones", "jonesmary", "mjones"), which says no more than the name does
    fn, ln = "s.first_name", "s.last_name"
    # concat_ws, not concat: a missing name is '' in both engines (Spark's concat is NULL)
    name_forms = (f"concat_ws('', {fn}, {ln})", f"concat_ws('', {ln}, {fn})", f"concat_ws('', substr({fn}, 1, 1), {ln})",
                  f"concat_ws('', {fn}, substr({ln}, 1, 1))", f"concat_ws('', {ln}, substr({fn}, 1, 1))")
    from_name = "".join(
        f", coalesce(split_part(s.{f.name}_alnum, '@', 1) IN ({', '.join(name_forms)}), false) AS {f.name}_from_name"
        for f in cfg.fields if f.kind == "email")
    return (f"SELECT s.*, CASE WHEN {fn} IS NOT NULL AND {ln} IS NOT NULL "
            f"THEN concat({fn}, ' ', {ln}) END AS full_name, n.related AS first_name_nicks{from_name} "
            f"FROM ({sql}) s LEFT JOIN {NICKNAME_TABLE} n ON {fn} = n.name")
