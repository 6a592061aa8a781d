"""scripts/settings.py (`./dev settings`, and on AWS `python -m scripts.settings --stage`): the
effective value, the template's default, and no value written that the app could not read."""
from __future__ import annotations

import os

import boto3
import pytest

from scripts.settings import Settings, effective, main, template_defaults


@pytest.fixture
def settings():
    tool = Settings(boto3.client("ssm"), os.environ["SETTINGS_PATH"], template_defaults())
    before = {name: item["value"] for name, item in tool.stored().items()}
    yield tool
    for name, value in before.items():  # other tests share the provisioned stack
        if tool.stored()[name]["value"] != value:
            tool.ssm.put_parameter(Name=tool.path + name, Value=value, Overwrite=True,
                                   Type=tool.stored()[name]["type"])


def test_every_setting_the_app_reads_is_listed_with_its_default_and_effective_value(settings):
    rows = {row["name"]: row for row in settings.rows()}
    assert rows["minimum_age"]["default"] == "18"
    assert rows["served_countries"]["default"] == "GB,IE,DE,FR,NL,ES,IT,US"  # as resources.yaml writes it
    assert rows["served_countries"]["effective"] == "DE,ES,FR,GB,IE,IT,NL,US"  # as the app reads it
    assert rows["refused_nationalities"]["effective"] == "IRN,MMR,PRK"


def test_the_template_and_the_code_agree_on_every_default():
    """A parameter's value in resources.yaml is what Policy falls back to when it is missing."""
    defaults = template_defaults()
    from_code = effective({})
    for name, value in defaults.items():
        if name in from_code:
            assert effective({name: value})[name] == from_code[name], name


def test_a_change_is_stored_and_read_back_as_the_app_reads_it(settings):
    assert settings.set("served_countries", "gb, ie,jp") == "GB,IE,JP"
    stored = settings.stored()["served_countries"]
    assert stored == {"value": "gb, ie,jp", "type": "StringList"}
    assert settings.reset("served_countries") == "DE,ES,FR,GB,IE,IT,NL,US"


@pytest.mark.parametrize("name, value", [("minimum_age", "eighteen"), ("sanctions_review_threshold", "high")])
def test_a_value_the_app_could_not_read_is_refused_and_nothing_is_written(settings, name, value):
    before = settings.stored()[name]
    with pytest.raises(ValueError, match="would not be readable"):
        settings.set(name, value)
    assert settings.stored()[name] == before


def test_an_unknown_setting_is_refused(settings):
    with pytest.raises(ValueError, match="not a setting the app reads"):
        settings.set("minimum_agee", "21")


def test_the_command_prints_one_effective_value_and_exits_2_on_a_refusal(settings, capsys):
    assert main(["--path", settings.path, "review_sla_hours"]) == 0
    assert capsys.readouterr().out.strip() == "48"
    assert main(["--path", settings.path, "review_sla_hours", "soon"]) == 2
    assert "would not be readable" in capsys.readouterr().err
