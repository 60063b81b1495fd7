"""Property-based tests of the stack settings (Hypothesis): any document is either
accepted, and then AWS's own rules hold for every value, or refused with every
problem naming its key. Never another exception.

The oracles are not the code under test: tag values are checked against the
pattern in botocore's IAM model (``tagValueType``), prefixes against what the job
contract and the job role's policy make of them.
"""
from __future__ import annotations

import botocore.session
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.arns import Arns
from builders.layout import bucket_layout
from builders.policies import glue_job_policy
from builders.settings import CONFIG_KEYS, Settings, SettingsError, parse_settings
from glue_jobs.contract import job_arguments, shown

KEYS = sorted(CONFIG_KEYS)
_IAM = botocore.session.get_session().get_service_model("iam")
_TAG_META = _IAM.shape_for("tagValueType").metadata
TAG_VALUE = regex.compile(_TAG_META["pattern"])

# values a careless or hostile user types, mixed with valid ones so that whole
# documents get accepted too
FRAGMENTS = [
    "", " ", "etl/in/", "etl/out/", "a/*/", "*", "a/../b/", "./a/", "a//b/", "a/b", "/a/", "a?/", "a[1]/",
    "x\n", "alice\nbob", "bob\u202e", "\x00", "O'Brien", "team-a", "María", "shared", "none", "per-stack",
    "s3-eventbridge", "cloudtrail", "auto", "duckdb", "spark", "FLEX", "STANDARD", "G.1X", "G.2X", "G.8X",
    "sse-kms", "sse-s3", "true", "false", "yes", "30", "14", "0", "-1", "299", "1_0", "\uff11", "1e3",
    "class-trail", "my--trail", "$(id);x", "ops@example.com", "ops@example.com\nBcc: a@b.c", "customers",
    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "select", "x" * 300,
]
values = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(max_size=30),
    st.integers(-10**6, 10**6).map(str),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(FRAGMENTS), max_size=3).map(lambda parts: "/".join(parts)),
)
documents = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12)), values, max_size=10)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_aws_accepts(s: Settings) -> None:
    for tag in (s.owner, s.environment):
        assert len(tag) <= _TAG_META["max"] and TAG_VALUE.fullmatch(tag), tag
        assert tag.isprintable(), tag
    for prefix in (s.watched_prefix, s.output_prefix):
        segments = prefix[:-1].split("/")
        assert prefix.endswith("/") and all(seg not in ("", ".", "..") for seg in segments), prefix
        assert not set(prefix) & set("*?[]{}\\$"), prefix
    layout = bucket_layout(s.watched_prefix, s.output_prefix)
    job_arguments(output_bucket="etl-ttt-demo-bucket", output_prefix=layout.output,
                  matches_prefix=layout.matches, staging_prefix=layout.staging,
                  settings_uri="s3://etl-ttt-demo-bucket/_pipeline/scripts/s.json",
                  output_format=s.output_format, job_engine=s.job_engine, dedup_mode=s.dedup_mode)
    policy = glue_job_policy(Arns("aws", "eu-west-1", "123456789012"), bucket="etl-ttt-demo-bucket",
                             input_prefix=layout.watched, scripts_prefix=layout.scripts,
                             staging_prefix=layout.staging, publish_prefixes=[layout.output, layout.matches],
                             log_groups=["/aws-glue/jobs-x"])
    for statement in policy["Statement"]:  # the S3 grants: a wildcard only as the last character
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for arn in resources:
            if arn.startswith("arn:aws:s3:::"):
                assert "*" not in arn[:-1], arn
    if s.shared_trail_name:
        assert s.trail_mode == "shared"


@PROPERTY
@given(documents)
def test_any_document_is_accepted_within_aws_rules_or_refused_naming_each_key(doc):
    try:
        s = parse_settings(doc)
    except SettingsError as error:
        assert error.problems
        # a key is named as given, or as the message shows an unprintable one (repr, cut at 80)
        named = set(KEYS) | {str(k) for k in doc} | {shown(k) for k in doc}
        for problem in error.problems:
            assert any(problem.startswith(f"{k}:") for k in named), problem
        return
    _assert_aws_accepts(s)


@PROPERTY
@given(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(FRAGMENTS), max_size=6),
       st.sampled_from(KEYS), st.sampled_from(["*", "\n", "-1", "a/../", "nope"]))
def test_one_more_bad_value_never_hides_the_others(doc, key, bad):
    """The problems of a document stay in the report when one more key goes wrong."""
    try:
        parse_settings(doc)
        before: set[str] = set()
    except SettingsError as error:
        before = set(error.problems)
    if key in doc:
        return
    try:
        parse_settings({**doc, key: bad})
        after: set[str] = set()
    except SettingsError as error:
        after = set(error.problems)
    # a cross-key check may drop out when one of its keys goes wrong; single-key problems stay
    single = {p for p in before if not any(p.startswith(f"{k}:") for k in ("outputPrefix", "trailMode",
              "sharedTrailName", "kmsKeyArn", "jobExecutionClass", "jobWorkers",
              "trailKmsEncryption"))}
    assert single <= after


def test_an_unknown_key_too_long_to_show_whole_is_still_named():
    """Found by Hypothesis: twelve astral-plane characters make a repr over 80 characters."""
    key = "\U00010c49\U00018cd6" * 6
    try:
        parse_settings({key: None})
    except SettingsError as error:
        assert error.problems[0].startswith(f"{shown(key)}: unknown setting")
    else:
        raise AssertionError("an unknown key was accepted")
