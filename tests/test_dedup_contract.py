"""The contract the Pulumi DedupJob component is built from."""
from __future__ import annotations

import ast
import io
import subprocess
import sys
import zipfile

import pytest

from glue_jobs import contract
from tests.dedup_fixtures import REPO

GOOD = dict(
    output_bucket="etl-ttt-demo-123456789012-eu-west-1",
    output_prefix="etl-ttt-demo/output/data_analytics_team_folder/top-customers/",
    matches_prefix="etl-ttt-demo/output/data_analytics_team_folder/top-customers-matches/",
    staging_prefix="etl-ttt-demo/output/_staging/",
    settings_uri="s3://assets-bucket/glue/tpcds_customer.json",
    output_format="csv",
    job_engine="auto",
)


def test_contract_module_is_stdlib_only():
    tree = ast.parse((REPO / "glue_jobs" / "contract.py").read_text())
    mods = {n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert all(m.split(".")[0] in sys.stdlib_module_names or m == "__future__" for m in mods), mods


def test_default_arguments():
    args = contract.job_arguments(**GOOD)
    assert args["--output_prefix"] == GOOD["output_prefix"]
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert args["--additional-python-modules"] == contract.ADDITIONAL_PYTHON_MODULES
    assert "--source_key" not in args and "--matcher" not in args


@pytest.mark.parametrize("change, arg", [
    ({"output_bucket": "Bad_Bucket"}, "output_bucket"),
    ({"output_prefix": "no-trailing-slash"}, "output_prefix"),
    ({"matches_prefix": "/abs/"}, "matches_prefix"),
    ({"matches_prefix": GOOD["output_prefix"] + "matches/"}, "matches_prefix"),
    ({"staging_prefix": GOOD["output_prefix"] + "_staging/"}, "staging_prefix"),
    ({"staging_prefix": "etl-ttt-demo/output/_staging[1]/"}, "staging_prefix"),
    ({"output_prefix": "etl-ttt-demo/output/top:customers/"}, "output_prefix"),
    ({"settings_uri": "glue/settings.json"}, "settings_uri"),
    ({"output_format": "json"}, "output_format"),
    ({"job_engine": "pandas"}, "job_engine"),
    ({"dedup_mode": "append"}, "dedup_mode"),
    ({"dedup_mode": "incremental"}, "model_prefix"),
    ({"model_prefix": GOOD["output_prefix"] + "model/"}, "model_prefix"),
])
def test_invalid_arguments_name_the_argument(change, arg):
    with pytest.raises(ValueError, match=arg):
        contract.job_arguments(**{**GOOD, **change})


def test_engine_choice_follows_the_documented_size():
    limit = contract.DUCKDB_MAX_INPUT_BYTES
    assert contract.choose_engine("auto", limit) == "duckdb"
    assert contract.choose_engine("auto", limit + 1) == "spark"
    assert contract.choose_engine("spark", 10) == "spark" and contract.choose_engine("duckdb", 10 * limit) == "duckdb"
    with pytest.raises(ValueError, match="job_engine"):
        contract.choose_engine("fast", 1)


def test_additional_modules_are_the_pinned_job_requirements():
    pins = dict(line.split("==") for line in (REPO / "requirements-job.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    for spec in contract.ADDITIONAL_PYTHON_MODULES.split(","):
        name, version = spec.split("==")
        assert pins[name] == version, spec


def _glue_jobs_imports(path):
    tree = ast.parse(path.read_text())
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("glue_jobs"):
            found.add(n.module)
        elif isinstance(n, ast.Import):
            found |= {a.name for a in n.names if a.name.startswith("glue_jobs")}
    return found


def test_entry_point_imports_only_shipped_modules():
    shipped = {p[:-3].replace("/", ".").removesuffix(".__init__") for p in contract.CORE_MODULE_FILES}
    todo, seen = [REPO / contract.GLUE_ENTRY_POINT], set()
    while todo:
        for mod in _glue_jobs_imports(todo.pop()) - seen:
            assert mod in shipped, f"{mod} is imported on Glue but not in CORE_MODULE_FILES"
            seen.add(mod)
            todo.append(REPO / (mod.replace(".", "/") + ".py"))
    assert (REPO / contract.DEFAULT_SETTINGS_FILE).is_file()


def test_core_zip_is_importable(tmp_path):
    z = tmp_path / contract.EXTRA_PY_FILES_ARCHIVE
    z.write_bytes(contract.build_core_zip(REPO))
    assert sorted(zipfile.ZipFile(io.BytesIO(z.read_bytes())).namelist()) == sorted(contract.CORE_MODULE_FILES)
    code = "import glue_jobs.dedup_core, glue_jobs.publish; print(glue_jobs.dedup_core.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(z)},
                         capture_output=True, text=True, check=True).stdout
    assert contract.EXTRA_PY_FILES_ARCHIVE in out


def test_source_key_encoding_is_checked():
    assert contract.decode_source_key("a+b%28c%29.csv", "url") == "a b(c).csv"
    assert contract.decode_source_key("a+b.csv", "none") == "a+b.csv"
    with pytest.raises(ValueError, match="source_key_encoding"):
        contract.decode_source_key("a.csv", "base64")
