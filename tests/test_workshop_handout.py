"""Handouts: one page per student whose names are the ones the stack really exports."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conftest import ACCOUNT, REGION, render_stack

from workshop.cli import main
from workshop.handout import page, to_html, to_markdown
from workshop.plan import ClassOptions, student_settings
from workshop.roster import Student, load_roster

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "students.csv"


def _outputs(mocks) -> dict:
    """The stack's exported values: the inputs of the root stack resource's outputs aren't
    recorded, so read them from the resources they come from."""
    return {
        "job_name": mocks.one("aws:glue/job:Job").inputs["name"],
        "crawler_name": mocks.one("aws:glue/crawler:Crawler").inputs["name"],
        "state_machine": mocks.one("aws:sfn/stateMachine:StateMachine").inputs["name"],
        "database": mocks.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"],
        "bucket": next(b.inputs["bucket"] for b in mocks.of_type("aws:s3/bucket:Bucket") if b.inputs.get("bucket")),
        "table_prefix": mocks.one("aws:glue/crawler:Crawler").inputs["tablePrefix"],
        "crawl_path": mocks.one("aws:glue/crawler:Crawler").inputs["s3Targets"][0]["path"],
    }


def test_handout_names_are_what_the_students_stack_creates():
    student = next(s for s in load_roster(ROSTER) if s.email == "jose.nunez@example.com")
    mocks = render_stack(student_settings(student, ClassOptions()), stack=student.stack)
    real = _outputs(mocks)
    facts = dict(page(student, ACCOUNT, REGION).facts)
    assert facts["Glue job"] == real["job_name"]
    assert facts["Glue crawler"] == real["crawler_name"]
    assert facts["Workflow (Step Functions state machine)"] == real["state_machine"]
    assert facts["Glue database"] == real["database"]
    assert facts["Data bucket"] == real["bucket"]
    assert facts["Results folder"] == real["crawl_path"]
    assert facts["Result table"].startswith(real["table_prefix"] + "top_customers ")
    p = page(student, ACCOUNT, REGION)
    assert p.upload_command.startswith(f"aws s3 cp full-top-customer.csv {facts['Upload folder']}")
    assert facts["Upload folder"] == f"s3://{real['bucket']}/etl-ttt-demo/data_analytics_team_folder/"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_names_and_markdown_does_not_format_them():
    student = Student("<script>alert(1)</script> *Bold* [x](y)", "a@example.com", 2, "student-script-alert-1")
    html = to_html(page(student, ACCOUNT, REGION))
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags
    assert "<script>alert(1)</script> *Bold* [x](y)" in "".join(parser.text)
    md = to_markdown(page(student, ACCOUNT, REGION))
    title = md.splitlines()[0]
    assert title == r"# AWS Glue workshop: \<script\>alert\(1\)\</script\> \*Bold\* \[x\]\(y\)"


def test_cli_writes_one_page_per_student_and_an_index(tmp_path):
    out: list[str] = []
    assert main(["handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--region", REGION,
                 "--out", str(tmp_path / "md")], out=out.append) == 0
    pages = sorted((tmp_path / "md").glob("student-*.md"))
    assert len(pages) == 60
    index = (tmp_path / "md" / "index.md").read_text()
    assert len(re.findall(r"^- \[student-", index, re.M)) == 60
    assert main(["handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--format", "html",
                 "--out", str(tmp_path / "html")], out=out.append) == 0
    assert len(list((tmp_path / "html").glob("student-*.html"))) == 60
    # Without the account the bucket names would be wrong: refused.
    assert main(["handout", "--roster", str(ROSTER), "--out", str(tmp_path / "x")], out=out.append) == 2
    assert "--account" in out[-1]
