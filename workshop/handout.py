"""One page per student: their upload command, their resources' names, console links. Pure.

Names come from ``builders.names.physical_names`` (the function the program
uses), so a handout written before class matches what ``up`` creates, given
the account and region the class runs in.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from builders.arns import Arns
from builders.layout import bucket_layout
from builders.names import physical_names
from builders.settings import Settings
from workshop.roster import Student


class OutputError(ValueError):
    """The handouts can't be written where asked; nothing was written."""


TABLE_PREFIX = "ml_final_"
FORMATS = ("md", "html")


@dataclass(frozen=True)
class Page:
    student: Student
    title: str
    facts: list[tuple[str, str]]
    """(label, value) rows, values shown as code."""
    links: list[tuple[str, str]]
    """(label, URL)."""
    upload_command: str
    notes: list[str]


def table_name(output_prefix: str) -> str:
    """The crawler's table: its prefix plus the output folder's name, as Glue spells identifiers."""
    folder = output_prefix.rstrip("/").rsplit("/", 1)[-1]
    return TABLE_PREFIX + re.sub(r"[^a-z0-9_]", "_", folder.lower())


def page(student: Student, account: str, region: str, *, partition: str = "aws",
         settings: Settings | None = None, trail_note: str = "") -> Page:
    settings = settings or Settings()
    names = physical_names(student.stack, account, region, data_bucket=settings.data_bucket_name or None,
                           database=settings.database_name or None)
    layout = bucket_layout(settings.watched_prefix, settings.output_prefix)
    arns = Arns(partition, region, account)
    upload_uri = f"s3://{names.data_bucket}/{layout.watched}"
    console = f"https://{region}.console.aws.amazon.com"
    state_machine_arn = arns.state_machine(names.state_machine)
    table = table_name(layout.output)
    facts = [
        ("Your stack", student.stack),
        ("Data bucket", names.data_bucket),
        ("Upload folder", upload_uri),
        ("Workflow (Step Functions state machine)", names.state_machine),
        ("Glue job", names.job),
        ("Glue crawler", names.crawler),
        ("Glue database", names.database),
        ("Result table", f"{table} (in {names.database}, after the first successful run)"),
        ("Results folder", f"s3://{names.data_bucket}/{layout.output}"),
    ]
    links = [
        ("Your upload folder (S3)",
         f"https://s3.console.aws.amazon.com/s3/buckets/{names.data_bucket}?region={region}&prefix={quote(layout.watched)}"),
        ("Your workflow's executions (Step Functions)",
         f"{console}/states/home?region={region}#/statemachines/view/{quote(state_machine_arn, safe='')}"),
        ("Your Glue job's runs", f"{console}/gluestudio/home?region={region}#/editor/job/{quote(names.job)}/runs"),
        ("Your crawler", f"{console}/glue/home?region={region}#/v2/data-catalog/crawlers/view/{quote(names.crawler)}"),
        ("Your result table",
         f"{console}/glue/home?region={region}#/v2/data-catalog/tables/view/{quote(table)}"
         f"?database={quote(names.database)}&catalogId={account}"),
    ]
    notes = [
        f"Failure notices go to {student.email}: confirm the 'AWS Notification - Subscription Confirmation' "
        "mail first, or you will not hear about a failed run.",
        "Only uploads into the upload folder start the workflow; a run takes a few minutes "
        "(job, then crawl).",
    ]
    if trail_note:
        notes.append(trail_note)
    return Page(student, f"AWS Glue workshop: {student.name}", facts, links,
                f"aws s3 cp full-top-customer.csv {upload_uri} --region {region}", notes)


def to_markdown(p: Page) -> str:
    def code(value: str) -> str:
        return f"`{value.replace('`', '')}`"

    # Names are user data: keep Markdown from interpreting them.
    title = re.sub(r"([\\`*_{}\[\]<>()#+!|])", r"\\\1", p.title)
    lines = [f"# {title}", "", "## Start a run", "", "Upload the customer file into your folder:", "",
             "```sh", p.upload_command, "```", "", "## Your resources", "", "| what | name |", "|---|---|"]
    lines += [f"| {label} | {code(value)} |" for label, value in p.facts]
    lines += ["", "## Console links", ""]
    lines += [f"- [{label}]({url.replace(')', '%29')})" for label, url in p.links]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in p.notes]
    return "\n".join(lines) + "\n"


def to_html(p: Page) -> str:
    e = html.escape
    rows = "\n".join(f"<tr><th>{e(label)}</th><td><code>{e(value)}</code></td></tr>" for label, value in p.facts)
    links = "\n".join(f'<li><a href="{e(url, quote=True)}">{e(label)}</a></li>' for label, url in p.links)
    notes = "\n".join(f"<li>{e(note)}</li>" for note in p.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(p.title)}</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto}}th{{text-align:left;padding-right:1em}}
pre{{background:#f4f4f4;padding:.6em;overflow-x:auto}}@media print{{a{{color:black}}}}</style></head>
<body>
<h1>{e(p.title)}</h1>
<h2>Start a run</h2>
<p>Upload the customer file into your folder:</p>
<pre><code>{e(p.upload_command)}</code></pre>
<h2>Your resources</h2>
<table>
{rows}
</table>
<h2>Console links</h2>
<ul>
{links}
</ul>
<h2>Notes</h2>
<ul>
{notes}
</ul>
</body></html>
"""


def _staging(out_dir: Path) -> Path:
    """A new folder in or next to ``out_dir`` to write into, proving the place writable before any work;
    OutputError (naming --out) when ``out_dir`` is not a folder or nothing can be written there."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir}: exists and is not a folder; name a folder (new or of earlier handouts)")
    parent = out_dir  # the folder itself when it exists (its parent may be read-only), else its nearest ancestor
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"--out {out_dir}: {parent} is not a folder")
    try:
        return Path(tempfile.mkdtemp(prefix=".handouts-", dir=parent))
    except OSError as error:
        raise OutputError(f"--out {out_dir}: cannot write in {parent} ({error.strerror or error})") from None


def check_out_dir(out_dir: Path) -> None:
    """OutputError unless handouts can be written to ``out_dir`` (checked by writing there)."""
    os.rmdir(_staging(out_dir))


def write_handouts(students: list[Student], out_dir: Path, fmt: str, account: str, region: str,
                   *, settings: Settings | None = None, trail_note: str = "") -> list[Path]:
    """One file per student (``<stack>.<fmt>``) and an index; returns the paths written.

    Everything is rendered into a staging folder first; only then are the files moved into
    ``out_dir`` (each move atomic), so a failure leaves ``out_dir`` as it was. Other files in
    ``out_dir`` are left alone."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    staging = _staging(out_dir)
    try:
        render = to_markdown if fmt == "md" else to_html
        names = []
        for student in students:
            names.append(f"{student.stack}.{fmt}")
            (staging / names[-1]).write_text(
                render(page(student, account, region, settings=settings, trail_note=trail_note)), encoding="utf-8")
        names.append(f"index.{fmt}")
        (staging / names[-1]).write_text(_index(students, fmt), encoding="utf-8")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for name in names:
                os.replace(staging / name, out_dir / name)
        except OSError as error:
            raise OutputError(f"--out {out_dir}: cannot write there ({error.strerror or error})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in names]


def _index(students: list[Student], fmt: str) -> str:
    if fmt == "md":
        return "# Handouts\n\n" + "".join(f"- [{s.stack}]({s.stack}.md)\n" for s in students)
    items = "".join(f'<li><a href="{html.escape(s.stack)}.html">{html.escape(s.name)}</a></li>\n' for s in students)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Handouts</title></head>'
            f"<body><h1>Handouts</h1><ul>\n{items}</ul></body></html>\n")
