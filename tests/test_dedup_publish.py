"""Publishing run-scoped output on S3 (moto): replace on success, untouched on failure."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from glue_jobs.publish import PublishError, check_layout, cleanup, list_keys, publish, publish_all

BUCKET = "etl-ttt-demo-123456789012-eu-west-1"
OUT = "etl-ttt-demo/output/data_analytics_team_folder/top-customers/"
STAGE = "etl-ttt-demo/output/_staging/jr_abc/deduplicated/"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.put_object(Bucket=BUCKET, Key=OUT + "part-00000-old.csv", Body=b"old")
        for name, body in [("part-00000-new.csv", b"new"), ("_SUCCESS", b""),
                           ("_temporary/0/part-x.csv", b"tmp")]:
            client.put_object(Bucket=BUCKET, Key=STAGE + name, Body=body)
        yield client


def _body(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_publish_replaces_published_objects_with_staged_data_only(s3):
    keys = publish(s3, BUCKET, STAGE, OUT)
    assert keys == [OUT + "part-00000-new.csv"]
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-new.csv"]
    assert _body(s3, OUT + "part-00000-new.csv") == b"new"


def test_nothing_staged_leaves_published_untouched(s3):
    with pytest.raises(PublishError, match="nothing to publish"):
        publish(s3, BUCKET, "etl-ttt-demo/output/_staging/other/", OUT)
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-old.csv"]


def test_copy_failure_rolls_back_partial_copies(s3):
    s3.put_object(Bucket=BUCKET, Key=STAGE + "part-00001-new.csv", Body=b"new2")
    real_copy, calls = s3.copy, []

    def flaky_copy(src, bucket, key, **kw):
        calls.append(key)
        if len(calls) == 2:
            raise RuntimeError("network gone")
        return real_copy(src, bucket, key, **kw)

    s3.copy = flaky_copy
    with pytest.raises(RuntimeError, match="network gone"):
        publish(s3, BUCKET, STAGE, OUT)
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-old.csv"]
    assert _body(s3, OUT + "part-00000-old.csv") == b"old"


def test_overlapping_prefixes_are_refused(s3):
    with pytest.raises(ValueError, match="overlap"):
        publish(s3, BUCKET, OUT + "staging/", OUT)


def test_cleanup_removes_the_run_prefix_only(s3):
    cleanup(s3, BUCKET, "etl-ttt-demo/output/_staging/jr_abc/")
    assert list_keys(s3, BUCKET, "etl-ttt-demo/output/_staging/") == []
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-old.csv"]


def test_input_inside_an_output_prefix_is_refused():
    with pytest.raises(ValueError, match="inside the job's output prefix"):
        check_layout(BUCKET, OUT + "upload.csv", BUCKET, [OUT])
    check_layout(BUCKET, "etl-ttt-demo/data_analytics_team_folder/upload.csv", BUCKET, [OUT])
    check_layout("other-bucket", OUT + "upload.csv", BUCKET, [OUT])


MATCHES_OUT = "etl-ttt-demo/output/data_analytics_team_folder/top-customers-matches/"
MATCHES_STAGE = "etl-ttt-demo/output/_staging/jr_abc/matches/"


def _two_sets(s3):
    s3.put_object(Bucket=BUCKET, Key=MATCHES_OUT + "part-00000-oldm.csv", Body=b"oldm")
    s3.put_object(Bucket=BUCKET, Key=MATCHES_STAGE + "part-00000-newm.csv", Body=b"newm")
    return [(STAGE, OUT), (MATCHES_STAGE, MATCHES_OUT)]


def test_publish_all_replaces_both_sets(s3):
    keys = publish_all(s3, BUCKET, _two_sets(s3))
    assert keys == [OUT + "part-00000-new.csv", MATCHES_OUT + "part-00000-newm.csv"]
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-new.csv"]
    assert list_keys(s3, BUCKET, MATCHES_OUT) == [MATCHES_OUT + "part-00000-newm.csv"]


def test_a_failed_copy_of_the_second_set_rolls_back_the_first(s3):
    sets = _two_sets(s3)
    real_copy = s3.copy

    def copy(src, bucket, key, **kw):
        if key.startswith(MATCHES_OUT):
            raise RuntimeError("network gone")
        return real_copy(src, bucket, key, **kw)

    s3.copy = copy
    with pytest.raises(RuntimeError, match="network gone"):
        publish_all(s3, BUCKET, sets)
    assert list_keys(s3, BUCKET, OUT) == [OUT + "part-00000-old.csv"]
    assert list_keys(s3, BUCKET, MATCHES_OUT) == [MATCHES_OUT + "part-00000-oldm.csv"]


def test_old_objects_that_cannot_be_deleted_are_retried_then_reported(s3):
    sets = _two_sets(s3)
    real_delete, calls = s3.delete_objects, []

    def delete_objects(**kw):
        calls.append(kw)
        if len(calls) == 1:  # a transient failure: retried
            raise RuntimeError("slow down")
        objs = [o for o in kw["Delete"]["Objects"] if o["Key"] != OUT + "part-00000-old.csv"]
        real_delete(Bucket=kw["Bucket"], Delete={"Objects": objs, "Quiet": True})
        return {"Errors": [{"Key": OUT + "part-00000-old.csv", "Code": "AccessDenied"}]}

    s3.delete_objects = delete_objects
    with pytest.raises(PublishError, match=r"new output published, but 1 old object\(s\) could not be deleted"):
        publish_all(s3, BUCKET, sets, sleep=lambda s: None)
    assert len(calls) == 4
    assert sorted(list_keys(s3, BUCKET, OUT)) == [OUT + "part-00000-new.csv", OUT + "part-00000-old.csv"]
    assert list_keys(s3, BUCKET, MATCHES_OUT) == [MATCHES_OUT + "part-00000-newm.csv"]
