"""devstack reads the template constructs the hardened resources use: Fn::ForEach and typed parameters."""
from __future__ import annotations

import pytest

from devstack.template import TemplateError, expand_for_each, resolve_parameters


def test_for_each_expands_keys_refs_and_strings_like_cloudformation():
    resources = {
        "Fn::ForEach::Alarms": ["Fn", {"Ref": "Handlers"}, {
            "Alarm&{Fn}": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "AlarmName": {"Fn::Sub": "x-${Fn}"}, "Value": {"Ref": "Fn"}, "Other": {"Ref": "Stage"}}}}],
        "Plain": {"Type": "AWS::SNS::Topic"},
    }
    expanded = expand_for_each(resources, {"Handlers": ["check_address", "ws-connect"]})
    assert set(expanded) == {"Alarmcheckaddress", "Alarmwsconnect", "Plain"}
    assert expanded["Alarmwsconnect"]["Properties"] == {
        "AlarmName": {"Fn::Sub": "x-ws-connect"}, "Value": "ws-connect", "Other": {"Ref": "Stage"}}


def test_for_each_refuses_duplicate_logical_ids():
    resources = {"Fn::ForEach::A": ["X", ["a_b", "ab"], {"R&{X}": {"Type": "T"}}]}
    with pytest.raises(TemplateError, match="duplicate"):
        expand_for_each(resources, {})


def test_comma_delimited_lists_and_numbers_are_typed_and_checked():
    template = {"Parameters": {
        "Origins": {"Type": "CommaDelimitedList", "Default": "https://a, https://b"},
        "Days": {"Type": "Number", "Default": 90, "MinValue": 1},
    }}
    assert resolve_parameters(template, {}) == {"Origins": ["https://a", "https://b"], "Days": "90"}
    assert resolve_parameters(template, {"Origins": ["x"]})["Origins"] == ["x"]
    with pytest.raises(TemplateError, match="below"):
        resolve_parameters(template, {"Days": "0"})
    with pytest.raises(TemplateError, match="not a number"):
        resolve_parameters(template, {"Days": "soon"})
