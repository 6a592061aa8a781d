"""Issue 20 on the local stack: the REAL lists are loaded at start, and a refused list is reported in words."""

from __future__ import annotations

import gzip
import json


def _current_index(local_stack) -> dict:
    s3 = local_stack.client("s3")
    bucket = local_stack.env["SANCTIONS_BUCKET_NAME"]
    pointer = json.loads(s3.get_object(Bucket=bucket, Key="index/current.json")["Body"].read())
    return json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=pointer["key"])["Body"].read()))


def test_the_stack_screens_against_the_real_lists_from_its_start(local_stack):
    index = _current_index(local_stack)
    assert index["lists"]["OFAC-SDN"]["records"] == 14965  # tests/data/sanctions/README.md
    assert index["lists"]["OFAC-SDN"]["dropped_aliases"] == 2559
    assert index["lists"]["UN-SC"]["individuals"] == 709
    names = {entry[2] for entry in index["entries"]}
    assert "ANWAR NASSER ABDULLA AL-AULAQI" in names and "AL-RASHIDI, Karim Yusuf" not in names  # no invented people


def test_dev_fire_prints_a_refused_lists_reason_not_a_traceback(local_stack):
    ssm = local_stack.client("ssm")
    name = f"{local_stack.env['SETTINGS_PATH']}sanctions_un_url"
    good = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    bucket = local_stack.env["SANCTIONS_BUCKET_NAME"]
    ssm.put_parameter(Name=name, Value=f"s3://{bucket}/sources/nowhere.xml", Type="String", Overwrite=True)
    try:
        # the refresh reads the URL fresh: no minute of the old URL and a reported success
        fired = local_stack.cli("fire", "refresh_sanctions_lists")
        assert fired.returncode == 1
        assert "Traceback" not in fired.stderr and "Traceback" not in fired.stdout
        assert "UN-SC refused: s3://" in fired.stderr and "nowhere.xml: " in fired.stderr, fired.stderr
        assert "NoSuchKey" in json.loads(fired.stdout)["refused"]["UN-SC"]
        assert _current_index(local_stack)["lists"]["UN-SC"]["individuals"] == 709  # the last good copy stays
    finally:
        ssm.put_parameter(Name=name, Value=good, Type="String", Overwrite=True)
    again = local_stack.cli("fire", "refresh_sanctions_lists")
    assert again.returncode == 0, again.stderr
