"""Roster validation and class planning: every problem at once, with file:line:column,
and sixty stacks whose physical names (the program's own function) never collide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builders import names as n
from builders.names import physical_names
from workshop.plan import ClassOptions, PlanError, plan_class
from workshop.roster import RosterError, load_roster, parse_roster, slugify

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "students.csv"
PULUMI_STACK = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
LIMITS = {"data_bucket": n.S3_BUCKET_MAX, "glue_job_role": n.IAM_ROLE_MAX, "crawler_role": n.IAM_ROLE_MAX,
          "states_role": n.IAM_ROLE_MAX, "events_role": n.IAM_ROLE_MAX, "rule": n.EVENTBRIDGE_RULE_MAX,
          "state_machine": n.STATE_MACHINE_MAX, "trail": n.TRAIL_NAME_MAX}


def test_sample_roster_of_sixty_awkward_names_passes():
    students = load_roster(ROSTER)
    assert len(students) == 60
    assert len({s.stack for s in students}) == 60
    assert all(PULUMI_STACK.match(s.stack) for s in students)
    by_email = {s.email: s for s in students}
    # Quoted comma, squeezed spaces, accents and letters NFKD keeps, scripts with no ASCII at all.
    assert by_email["rob.smith.jr@example.com"].name == "Smith, Jr., Robert"
    assert by_email["extra.spaces@example.com"].name == "Extra Spaces"
    assert by_email["soren@example.dk"].stack == "student-soren-kierkegaard"
    assert by_email["lukasz.zolc@example.pl"].stack == "student-lukasz-zolc"
    assert re.fullmatch(r"student-n[0-9a-f]{6}", by_email["li.lei@example.cn"].stack)


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2", "us-gov-west-1"])
def test_sixty_stacks_have_distinct_valid_physical_names(region):
    students = load_roster(ROSTER)
    plan = plan_class(students, ClassOptions(account="123456789012", region=region))
    assert [spec.stack for spec in plan.students] == [s.stack for s in students]
    seen: dict[tuple[str, str], str] = {}
    for spec in plan.students:
        for kind, name in physical_names(spec.stack, "123456789012", region).as_dict().items():
            namespace = "role" if kind.endswith("_role") else kind
            assert (namespace, name) not in seen, f"{name} of {spec.stack} is also {seen[(namespace, name)]}'s"
            seen[(namespace, name)] = spec.stack
            assert len(name) <= LIMITS.get(kind, n.GLUE_NAME_MAX), (kind, name)
            if kind == "data_bucket":
                n.check_bucket_name(name)
    assert len(seen) == 60 * len(physical_names("x", "123456789012", region).as_dict())


def test_each_student_gets_owner_and_email_config():
    students = load_roster(ROSTER)
    plan = plan_class(students, ClassOptions())
    spec = next(s for s in plan.students if s.student.email == "zoe.obrien@example.org")
    config = spec.config
    assert config["etl-ttt-demo-dedup:notificationEmail"] == "zoe.obrien@example.org"
    # An apostrophe is no valid tag character; the plan validated the rest through parse_settings.
    assert config["etl-ttt-demo-dedup:owner"] == "Zoë O Brien-Smith"
    assert config["etl-ttt-demo-dedup:trailMode"] == "shared"
    assert config["etl-ttt-demo-dedup:protectData"] == "false"
    assert config["etl-ttt-demo-dedup:dedupMode"] == "replace"  # the lab's behaviour


def test_every_problem_is_reported_at_once_with_line_and_column():
    text = (
        "name,email\n"                       # 1
        "Bob Smith,bob@example.com\n"        # 2
        "bob.smith,bob2@example.com\n"       # 3 same stack as line 2
        "Alice,alice@example\n"              # 4 no dotted domain
        ",nobody@example.com\n"              # 5 empty name
        "Carol,bob@EXAMPLE.com\n"            # 6 e-mail of line 2
        "BOB SMITH,bob3@example.com\n"       # 7 same name as line 2
        "Dan\n"                              # 8 one field
        "Eve,eve @example.com\n"             # 9 space in e-mail
    )
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "class.csv")
    found = [(p.line, p.column) for p in caught.value.problems]
    assert found == [(3, 1), (4, 2), (5, 1), (6, 2), (7, 1), (8, 2), (9, 2)]
    message = str(caught.value)
    assert "class.csv:3:1:" in message and "'bob.smith' and 'Bob Smith' (line 2) both become stack 'student-bob-smith'" in message
    assert "class.csv:7:1: 'BOB SMITH' is listed twice (first on line 2)" in message
    assert "class.csv:6:2: e-mail 'bob@EXAMPLE.com' already given for 'Bob Smith' on line 2" in message


def test_header_bom_crlf_comments_and_extra_columns():
    text = "\ufeffName,E-Mail\r\n"
    with pytest.raises(RosterError, match=r"roster.csv:1:1: header has no 'email' column"):
        parse_roster(text, "roster.csv")
    students = parse_roster("\ufeff# class of 2026\r\nteam,NAME,email\r\n\r\nred,Ann,ann@example.com\r\n")
    assert [(s.name, s.line) for s in students] == [("Ann", 4)]


def test_multiline_quoted_field_keeps_following_line_numbers_right():
    text = 'name,email\n"Ann\nMarie",ann@example.com\nBob,bad\n'
    with pytest.raises(RosterError) as caught:
        parse_roster(text)
    assert [(p.line, p.column) for p in caught.value.problems] == [(4, 2)]


def test_empty_and_missing_rosters(tmp_path):
    with pytest.raises(RosterError, match="empty"):
        parse_roster("")
    with pytest.raises(RosterError, match="no students"):
        parse_roster("name,email\n")
    with pytest.raises(RosterError, match="not found"):
        load_roster(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes("name,email\nJos\xe9,j@example.com\n".encode("latin-1"))
    with pytest.raises(RosterError, match="UTF-8"):
        load_roster(tmp_path / "latin1.csv")


def test_slugs_of_long_and_non_latin_names_stay_distinct():
    long_a = "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Senior"
    long_b = "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Junior"
    assert slugify(long_a) != slugify(long_b)
    assert len(slugify(long_a)) <= 40
    assert slugify("李雷") != slugify("韩梅梅")
    assert slugify("José") == slugify("Jose") == "jose"


def test_accent_only_difference_is_a_reported_collision():
    with pytest.raises(RosterError, match="both become stack 'student-jose'"):
        parse_roster("name,email\nJosé,a@example.com\nJose,b@example.com\n")


def test_plan_refuses_invalid_class_settings_once_for_the_class():
    students = parse_roster("name,email\nAnn,ann@example.com\nBob,bob@example.com\n")
    with pytest.raises(PlanError) as caught:
        plan_class(students, ClassOptions(trail_mode="none", trigger_source="cloudtrail"))
    assert len(caught.value.problems) == 1, "a problem of every student's settings is the class's: said once"
    assert all("triggerSource 'cloudtrail' would never fire" in p for p in caught.value.problems)
    with pytest.raises(PlanError, match="jobWorkrs: unknown setting"):
        plan_class(students, ClassOptions(extra={"jobWorkrs": "3"}))
    with pytest.raises(PlanError, match="trail stack 'student-ann' has the name of a student stack"):
        plan_class(students, ClassOptions(trail_stack="student-ann"))


def test_shared_trail_class_refuses_a_bucket_the_trail_would_not_see():
    students = parse_roster("name,email\nAnn,ann@example.com\n")
    with pytest.raises(PlanError, match="does not start with 'etl-ttt-demo-student-'"):
        plan_class(students, ClassOptions(extra={"dataBucketName": "my-own-bucket-for-ann"}))
    # Without the class trail the bucket may be named freely.
    plan_class(students, ClassOptions(trail_mode="per-stack", extra={"dataBucketName": "my-own-bucket-for-ann"}))


def test_settings_the_command_owns_cannot_be_overridden_with_set():
    students = parse_roster("name,email\nAnn,ann@example.com\n")
    with pytest.raises(PlanError) as caught:
        plan_class(students, ClassOptions(extra={"trailMode": "per-stack", "owner": "me", "logLevel": "ALL"}))
    assert caught.value.problems == [
        "--set owner: set per class by the workshop command; use the roster's name column",
        "--set trailMode: set per class by the workshop command; use --trail-mode",
    ]
