"""A person known by one name (common in Indonesia, Myanmar, Afghanistan, parts of India): ICAO 9303 prints it
as the primary identifier with nothing after ``<<``, so they declare it as ``surname`` and no given names. The
create takes them (through the Chalice test client against the provisioned local AWS) and the identity check
passes their document; a one-name document still does not match a declaration with given names."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.domain.checks import Outcome
from chalicelib.domain.declaration import ApplicationRequest
from chalicelib.domain.document_file import DocumentSample
from chalicelib.domain.identity import MRZ_MISMATCH_NAME, PageText, check_identity
from chalicelib.domain.policy import Policy
from tests.support.documents import jpeg_bytes, make_declared, mrz_lines


@pytest.mark.parametrize("full_name", [{"surname": "Sukarno"}, {"given_names": "", "surname": "Sukarno"},
                                       {"given_names": "   ", "surname": "Sukarno"}],
                         ids=["left-out", "empty", "blank"])
def test_one_name_is_accepted_as_the_surname_with_no_given_names(api, other_applicant, full_name):
    created = api.post("/applications", make_declared(full_name=full_name), user=other_applicant)

    assert created.status == 201, created.body
    shown = api.get(f"/applications/{created.body['id']}", user=other_applicant).body
    assert shown["declared"]["full_name"] == {"given_names": "", "surname": "Sukarno"}


@pytest.mark.parametrize("full_name", [{"given_names": "Budi", "surname": ""}, {"given_names": "Budi"}],
                         ids=["empty-surname", "no-surname"])
def test_the_surname_is_still_required(api, other_applicant, full_name):
    refused = api.post("/applications", make_declared(full_name=full_name), user=other_applicant)

    assert refused.status == 422, refused.body
    assert refused.body["error"]["code"] == "validation_failed"
    assert api.get("/applications", user=other_applicant).body["items"] == []


def identity(declared_name, printed_name=None, kind="passport"):
    body = make_declared(full_name=declared_name, doc_overrides={"type": kind})
    printed = make_declared(full_name=printed_name or declared_name, doc_overrides={"type": kind})
    lines = mrz_lines(printed)
    data = jpeg_bytes()
    document = DocumentSample(key="documents/app-1/passport", size=len(data), head=data[:65536], content_type="image/jpeg",
                              tail=data[-1024:])
    page = PageText(tuple(lines), (99.0,) * len(lines))
    return check_identity(ApplicationRequest.model_validate(body), document, Policy(), dt.date.today(), page)


@pytest.mark.parametrize("kind", ["passport", "id_card"])
def test_a_one_name_document_passes_for_its_one_name_holder(kind):
    lines = mrz_lines(make_declared(full_name={"surname": "Sukarno", "given_names": ""}, doc_overrides={"type": kind}))
    name_line = lines[0] if kind == "passport" else lines[2]
    assert name_line.split("SUKARNO", 1)[1].strip("<") == ""  # nothing after the one name

    result = identity({"surname": "Sukarno"}, kind=kind)

    assert result.reasons == () and result.outcome is Outcome.PASS


@pytest.mark.parametrize("declared, printed", [
    ({"given_names": "Budi", "surname": "Sukarno"}, {"surname": "Sukarno"}),
    ({"surname": "Sukarno"}, {"given_names": "Budi", "surname": "Sukarno"}),
], ids=["declared-given-names-printed-none", "declared-none-printed-some"])
def test_a_one_name_document_does_not_match_a_name_with_given_names(declared, printed):
    result = identity(declared, printed)

    assert MRZ_MISMATCH_NAME in {reason.code for reason in result.reasons}
    assert result.outcome is not Outcome.PASS
