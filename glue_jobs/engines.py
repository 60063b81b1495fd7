"""Where the dedup's SQL runs: DuckDB locally, Spark on Glue.

An engine runs the job's own SQL (``create``, ``create_meanwhile``, ``row``, ``scalar``, ``columns``),
hands Splink its database API (``splink_api``), and owns the few places where
the two SQL dialects differ, as methods, the way Splink's own ``SplinkDialect``
classes do (``quote``, ``regexp_replace_all``, ``try_cast_int``, ``hash64``, ``min_by``, ``nfc``,
``key62``, ``renumber``). Code that builds SQL calls these methods and never tests which engine it has.

No Glue imports, and nothing heavy at import time: ``duckdb``, ``splink`` and
``pyspark`` are imported by the engine that needs them.
"""
from __future__ import annotations

import atexit
import weakref
from typing import Any

# The characters DuckDB's trim() removes: Unicode's space separators (Zs), a no-break
# space among them. Spark's trim() removes only ' ', so it is given them.
SPACES = (" \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
          "\u202f\u205f\u3000")


class Engine:
    """Base class: the dialect methods and the table operations every engine has."""

    dialect = ""

    # ------------------------------------------------------------- dialect

    def quote(self, col: str) -> str:
        """An input column name as an SQL identifier."""
        raise NotImplementedError

    def regexp_replace_all(self, expr: str, pattern: str, repl: str) -> str:
        """``expr`` with every match of ``pattern`` (a regex as DuckDB reads it) replaced."""
        raise NotImplementedError

    def try_cast_int(self, expr: str) -> str:
        """``expr`` as an integer, NULL where it is not one (never a cast error)."""
        raise NotImplementedError

    def strip(self, expr: str) -> str:
        """``expr`` without the space separators (``SPACES``) at either end."""
        raise NotImplementedError

    def hash64(self, exprs: list[str]) -> str:
        """A 64-bit hash of the values of ``exprs`` together (equal values, equal hash)."""
        raise NotImplementedError

    def min_by(self, value: str, keys: list[str]) -> str:
        """Aggregate: ``value`` of the row whose ``keys`` are least, compared in order
        (the first key, then the next on a tie; none NULL)."""
        raise NotImplementedError

    def nfc(self, expr: str) -> str:
        """``expr`` in Unicode's composed form (NFC): a letter typed as its base letter and
        combining marks ("e" + U+0301, as macOS writes file names and some exports
        write text) becomes the one precomposed letter ("é") that other files hold."""
        raise NotImplementedError

    # -------------------------------------------------------------- tables

    def create(self, name: str, sql: str) -> None:
        """Materialise ``sql`` as table ``name`` (replacing it)."""
        raise NotImplementedError

    def key62(self, expr: str) -> str:
        """A non-negative 62-bit integer hash of ``expr``'s value (a record's key from its id)."""
        raise NotImplementedError

    def uniform(self, exprs: list[str]) -> str:
        """A hash of the values of ``exprs`` together as a number in [0, 1), evenly spread
        (samples kept by a threshold on it)."""
        raise NotImplementedError

    def renumber(self, name: str, column: str, after: int = 0) -> None:
        """Replace ``column`` of table ``name`` by a distinct integer per row, each greater
        than ``after``, in no particular order (the same on every read)."""
        raise NotImplementedError

    def view(self, name: str, sql: str) -> None:
        """``sql`` as view ``name`` (replacing it): computed where used, never stored (renamings, big unions)."""
        raise NotImplementedError

    def create_meanwhile(self, tables: list[tuple[str, str]]) -> Background:
        """Start materialising ``tables`` ((name, sql), in order) while the caller goes on.

        ``wait()`` on the result returns when they exist (raising what their SQL
        raised); ``stop()`` abandons them. The base engine does no work meanwhile:
        it creates them in ``wait()``, and never if stopped first.
        """
        return _OnWait(lambda: [self.create(name, sql) for name, sql in tables])

    def columns(self, name: str) -> list[str]:
        raise NotImplementedError

    def create_from_rows(self, name: str, columns: list[str], rows: list[tuple]) -> None:
        """A small table of strings from Python values (a lookup table)."""
        raise NotImplementedError

    def row(self, sql: str) -> tuple:
        """The first row of ``sql``, fully fetched."""
        raise NotImplementedError

    def scalar(self, sql: str) -> Any:
        return self.row(sql)[0]

    def rows(self, sql: str) -> list[tuple]:
        """Every row of ``sql`` (small results only: summaries, review lists)."""
        raise NotImplementedError

    def frame(self, sql: str) -> Any:
        """The result of ``sql`` as a pandas DataFrame (columnar: a million rows in well under a second)."""
        raise NotImplementedError

    def splink_api(self) -> Any:
        raise NotImplementedError

    def to_sql_name(self, splink_df: Any) -> str:
        """The table name of a Splink result, for the job's own SQL."""
        return splink_df.physical_name


class Background:
    """Work done while the job goes on (``Engine.create_meanwhile``, ``DuckDBEngine.run_meanwhile``);
    this base class: none to do."""

    def wait(self) -> None:
        """Return when the work is done; raise what it raised."""

    def stop(self) -> None:
        """Abandon the work if it is still running (its tables or files may not exist); idempotent."""


class _OnWait(Background):
    """Work done when it is waited for (an engine that does nothing meanwhile)."""

    def __init__(self, work):
        self._work = work

    def wait(self) -> None:
        work, self._work = self._work, None
        if work is not None:
            work()

    def stop(self) -> None:
        self._work = None


class _DuckDBBackground(Background):
    """Statements on a cursor of the job's database, in a thread.

    DuckDB runs queries from several connections of one database on one pool of
    worker threads, so a query Splink runs on a single thread (u training's
    small sample) and this one share the cores instead of taking turns. The
    Python thread waits in DuckDB with the GIL released.
    """

    def __init__(self, con, statements: list[str]):
        import threading

        self._cursor = con.cursor()
        self._stopping = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(statements,), name="dedup-meanwhile", daemon=True)
        _LIVE.add(self)
        self._thread.start()

    def _run(self, statements):
        try:
            for sql in statements:
                if self._stopping:
                    return
                self._cursor.execute(sql)
        except BaseException as e:  # noqa: BLE001 - handed to wait()
            self._error = e

    def wait(self) -> None:
        self._thread.join()
        self.stop()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._stopping = True
        while self._thread.is_alive():  # again and again: an interrupt before the query starts is lost
            self._cursor.interrupt()
            self._thread.join(0.05)
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        _LIVE.discard(self)


# Work still running when the interpreter exits is stopped first: a daemon thread
# whose query ends during the interpreter's shutdown is ended mid-way through
# DuckDB's C++ frames, and the process aborts ("FATAL: exception not rethrown",
# signal 6) after the job has already said what happened (seen once in CI, in
# the Ctrl-C test).
_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_live_work() -> None:
    for work in list(_LIVE):
        work.stop()


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, con=None, threads: int | None = None):
        import duckdb

        if con is None:
            con = duckdb.connect()
            # No automatic checkpoints: in DuckDB 2.0 a checkpoint of this in-memory
            # database compresses every table (FSST dictionaries, on one thread), and one
            # comes at the first commit past 16 MiB of changes, which is most statements
            # of a big run. A write waited on it for 1.2-1.5 s in a 1M incremental run.
            # The tables stay as written (uncompressed): at 1M, peak memory 1.60 -> 1.65
            # GiB (full run), 1.14 -> 1.17 GiB (incremental); time 0.95-0.96 of before
            # (medians of alternating runs, benchmarks/RESULTS.md). The database lives
            # for one run and never reaches a file: nothing needs a checkpoint.
            # https://duckdb.org/docs/stable/sql/statements/checkpoint (in-memory tables)
            con.execute("SET checkpoint_threshold = '1TB'")
        self.con = con
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._api = None

    def quote(self, col: str) -> str:
        return '"' + col.replace('"', '""') + '"'

    def threads(self) -> int:
        """The worker threads DuckDB runs a query on."""
        return int(self.scalar("SELECT current_setting('threads')"))

    def create_from_csv(self, name: str, read_csv_args: str, params: list | None, total_bytes: int) -> None:
        """Table ``name`` from ``read_csv(<read_csv_args>)`` of files of ``total_bytes`` in all,
        read in buffers of ``csv_buffer_bytes`` on every thread, or on one where DuckDB's
        parallel reader gives up on the file.

        The parallel reader splits the file into buffers and starts a thread inside each;
        where it cannot tell how a buffer's first line starts it raises "The Parallel CSV
        Reader currently does not support a full read on this file ... run with parallel =
        false" (DuckDB 2.0.1; seen on valid files, at buffer sizes that put a boundary in
        the wrong place: ``tests/test_dedup_csv_fallback.py``). The same read on one
        thread then takes its place: the same rows, slower.
        """
        import duckdb

        from glue_jobs.validation import csv_buffer_bytes

        buffer = csv_buffer_bytes(total_bytes, self.threads())
        sql = f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv({read_csv_args}, buffer_size = {buffer}"
        try:
            self.con.execute(sql + ")", params or [])
        except duckdb.NotImplementedException as e:
            if "parallel = false" not in str(e):
                raise
            self.con.execute(sql + ", parallel = false)", params or [])

    def regexp_replace_all(self, expr: str, pattern: str, repl: str) -> str:
        return f"regexp_replace({expr}, '{pattern}', '{repl}', 'g')"

    # what Spark's TRY_CAST(... AS INT) takes: a sign, ASCII digits, control characters
    # and spaces around; DuckDB's own also reads "7.5" (as 8), "1e1", "0x10", "1_000"
    _INTEGER = r"[\x00-\x20]*[+-]?[0-9]+[\x00-\x20]*"

    def try_cast_int(self, expr: str) -> str:
        return f"CASE WHEN regexp_full_match({expr}, '{self._INTEGER}') THEN TRY_CAST({expr} AS INTEGER) END"

    def strip(self, expr: str) -> str:
        return f"trim({expr})"  # SPACES, and faster than naming them

    def hash64(self, exprs: list[str]) -> str:
        return f"hash({', '.join(exprs)})"

    def min_by(self, value: str, keys: list[str]) -> str:
        # a STRUCT compares field by field
        return f"arg_min({value}, struct_pack({', '.join(f'k{i} := {k}' for i, k in enumerate(keys))}))"

    def nfc(self, expr: str) -> str:
        # utf8proc; an ASCII value is returned as it is (1M names: no measurable time;
        # 0.22 s when every one holds an accent)
        return f"nfc_normalize({expr})"

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def key62(self, expr: str) -> str:
        return f"CAST(hash({expr}) >> 2 AS BIGINT)"

    def uniform(self, exprs: list[str]) -> str:
        return f"(CAST(hash({', '.join(exprs)}) AS DOUBLE) / 18446744073709551616.0)"  # an unsigned 64-bit hash

    def renumber(self, name: str, column: str, after: int = 0) -> None:
        # a column whose default is a sequence, numbered in the table's row order (a
        # row_number() in a SELECT would copy the table on one thread)
        seq = f"{name}__{column}_seq"
        self.con.execute(f"CREATE OR REPLACE SEQUENCE {seq} START {int(after) + 1}")
        self.con.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
        self.con.execute(f"ALTER TABLE {name} ADD COLUMN {column} BIGINT DEFAULT nextval('{seq}')")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def create_meanwhile(self, tables: list[tuple[str, str]]) -> Background:
        return self.run_meanwhile([f"CREATE OR REPLACE TABLE {name} AS {sql}" for name, sql in tables])

    def run_meanwhile(self, statements: list[str]) -> Background:
        """Start running ``statements`` (in order) on a cursor while the caller goes on."""
        return _DuckDBBackground(self.con, statements)

    def columns(self, name: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"SELECT * FROM {name} LIMIT 0").description]

    def create_from_rows(self, name: str, columns: list[str], rows: list[tuple]) -> None:
        # each column as one list parameter, unnested side by side: no pandas (whose import,
        # 0.6 s, a run otherwise never needs) and no pyarrow (which imports pandas)
        lists = [[None if r[i] is None else str(r[i]) for r in rows] for i in range(len(columns))]
        cols = ", ".join(f"unnest(CAST(? AS VARCHAR[])) AS {self.quote(c)}" for c in columns)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {cols}", lists)

    def row(self, sql: str) -> tuple:
        return self.con.execute(sql).fetchall()[0]  # fetch fully: Splink shares the connection

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.con.execute(sql).fetchall()]

    def frame(self, sql: str) -> Any:
        return self.con.execute(sql).df()

    def splink_api(self):
        from splink import DuckDBAPI

        if self._api is None:
            self._api = DuckDBAPI(connection=self.con)
        return self._api


NFC_UDF = "__dedup_nfc"


class SparkEngine(Engine):
    """Spark tables as checkpointed temp views.

    Lineage is cut at every step (Splink: ``break_lineage_method='checkpoint'``,
    ours: ``DataFrame.checkpoint``): with ``persist`` alone the plans of EM and
    connected components grow until the driver runs out of memory printing them.
    Needs ``sparkContext.setCheckpointDir(...)`` (the Glue wrapper uses the
    run's staging prefix).
    """

    dialect = "spark"

    def __init__(self, spark, break_lineage_method: str = "checkpoint", num_partitions: int | None = None):
        self.spark = spark
        self.break_lineage_method = break_lineage_method
        self.num_partitions = num_partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
        self._api = None
        self._nfc_registered = False

    def quote(self, col: str) -> str:
        return "`" + col.replace("`", "``") + "`"

    def regexp_replace_all(self, expr: str, pattern: str, repl: str) -> str:
        # Spark replaces every match by default, and unescapes backslashes in
        # string literals (DuckDB keeps them)
        pattern = pattern.replace("\\", "\\\\")
        return f"regexp_replace({expr}, '{pattern}', '{repl}')"

    def try_cast_int(self, expr: str) -> str:
        # a plain CAST fails on "x" when spark.sql.ansi.enabled is on
        return f"TRY_CAST({expr} AS INT)"

    def strip(self, expr: str) -> str:
        return f"trim(BOTH '{SPACES}' FROM {expr})"

    def hash64(self, exprs: list[str]) -> str:
        return f"xxhash64({', '.join(exprs)})"  # Spark's hash() is 32-bit

    def min_by(self, value: str, keys: list[str]) -> str:
        # a struct compares field by field (Spark 3.0+)
        return f"min_by({value}, struct({', '.join(keys)}))"

    def nfc(self, expr: str) -> str:
        # Spark SQL has no Unicode normalisation (3.5): Python's, as a UDF registered on
        # the session. Defined in here so that it is pickled whole (by value) to the Python
        # workers, which need not import this package.
        if not self._nfc_registered:
            from pyspark.sql.types import StringType

            def nfc(value):
                import unicodedata

                return value if value is None or value.isascii() else unicodedata.normalize("NFC", value)

            self.spark.udf.register(NFC_UDF, nfc, StringType())
            self._nfc_registered = True
        return f"{NFC_UDF}({expr})"

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(sql)
        df = df.checkpoint(eager=True) if self.break_lineage_method == "checkpoint" else df.persist()
        df.createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def key62(self, expr: str) -> str:
        return f"(xxhash64({expr}) & 4611686018427387903)"

    def uniform(self, exprs: list[str]) -> str:
        return f"(CAST(xxhash64({', '.join(exprs)}) & 4611686018427387903 AS DOUBLE) / 4611686018427387904.0)"

    def renumber(self, name: str, column: str, after: int = 0) -> None:
        # row_number() needs a window with ORDER BY: one partition
        cols = ", ".join(self.quote(c) for c in self.columns(name) if c != column)
        self.create(name, f"SELECT {cols}, {int(after)} + monotonically_increasing_id() + 1 AS {column} FROM {name}")

    def columns(self, name: str) -> list[str]:
        return self.spark.table(name).columns

    def create_from_rows(self, name: str, columns: list[str], rows: list[tuple]) -> None:
        schema = ", ".join(f"{self.quote(c)} string" for c in columns)
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    def row(self, sql: str) -> tuple:
        return tuple(self.spark.sql(sql).collect()[0])

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def frame(self, sql: str) -> Any:
        return self.spark.sql(sql).toPandas()

    def splink_api(self):
        from splink import SparkAPI

        if self._api is None:
            self._api = SparkAPI(spark_session=self.spark, register_udfs_automatically=False,
                                 break_lineage_method=self.break_lineage_method,
                                 num_partitions_on_repartition=self.num_partitions)
        return self._api
