"""Reading XML answers against the spec and the JSON answer (paycert/gateways/xml_answers.py, CON-XML).

The XML texts are written out here, not made by the sandbox's renderer, so a mistake shared by the renderer and
the reader cannot hide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from paycert.core.errors import NotApplicable
from paycert.gateways.client import ApiResult
from paycert.gateways.http import HttpAnswer
from paycert.gateways.xml_answers import XmlAnswers
from paycert.targets.profile import Profile, load_profile
from paycert.targets.spec import ApiSpec

PAYMENT = {
    "paymentId": "240190134881",
    "merchantTransactionId": "order-1",
    "paymentType": "DB",
    "paymentMode": "CC",
    "paymentBrand": "VISA",
    "amount": "10.00",
    "currency": "EUR",
    "status": "capturesuccess",
    "transactionStatus": "Y",
    "result": {"code": "00026", "description": "Record found"},
    "card": {"bin": "411111", "last4Digits": "1111"},
    "timestamp": "2025-03-14T10:15:00Z",
}
PAYMENT_XML = (
    "<response><paymentId>240190134881</paymentId><merchantTransactionId>order-1</merchantTransactionId>"
    "<paymentType>DB</paymentType><paymentMode>CC</paymentMode><paymentBrand>VISA</paymentBrand>"
    "<amount>10.00</amount><currency>EUR</currency><status>capturesuccess</status>"
    "<transactionStatus>Y</transactionStatus><result><code>00026</code><description>Record found</description>"
    "</result><card><bin>411111</bin><last4Digits>1111</last4Digits></card>"
    "<timestamp>2025-03-14T10:15:09Z</timestamp></response>"
)

# A spec of one operation, with what the XML mapping of OpenAPI can say: a named root, an attribute, a wrapped
# list with named items, a list repeated in place, an integer and a boolean.
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "operationId": "getThing",
                "responses": {
                    "200": {
                        "description": "a thing",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}},
                            "application/xml": {"schema": {"$ref": "#/components/schemas/Thing"}},
                        },
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "xml": {"name": "thing"},
                "additionalProperties": False,
                "required": ["id", "count"],
                "properties": {
                    "id": {"type": "string", "xml": {"attribute": True}},
                    "count": {"type": "integer"},
                    "live": {"type": "boolean"},
                    "tags": {
                        "type": "array",
                        "xml": {"wrapped": True},
                        "items": {"type": "string", "xml": {"name": "tag"}},
                    },
                    "notes": {"type": "array", "items": {"type": "string", "xml": {"name": "note"}}},
                },
            }
        }
    },
}
THING = {"id": "t1", "count": 3, "live": True, "tags": ["a", "b"], "notes": ["x", "y"]}
THING_XML = (
    '<thing id="t1"><count>3</count><live>true</live><tags><tag>a</tag><tag>b</tag></tags>'
    "<note>x</note><note>y</note></thing>"
)


@pytest.fixture(scope="module")
def txservices() -> XmlAnswers:
    return XmlAnswers.of(load_profile("txservices"))


@pytest.fixture(scope="module")
def things() -> XmlAnswers:
    raw = {"id": "things", "operations": {"get_thing": {"operation_id": "getThing"}}, "xml": {"accept": "x"}}
    return XmlAnswers.of(Profile(raw=raw, path=Path("profile.yaml"), spec=ApiSpec(SPEC, "things")))


def answer(operation: str, body: Any, text: str = "", media: str = "application/json") -> ApiResult:
    headers = httpx.Headers({"content-type": media})
    return ApiResult(operation, HttpAnswer(200, headers, body, text, "http://x", [], 0.0), {})


def in_xml(operation: str, text: str, media: str = "application/xml") -> ApiResult:
    return answer(operation, None, text, media)


def test_an_xml_answer_with_the_json_fields_and_values_has_no_differences(txservices: XmlAnswers) -> None:
    found = txservices.differences(
        answer("get_payment", PAYMENT), in_xml("get_payment", PAYMENT_XML), same={}
    )

    # The timestamps differ (each answer's own moment): not a difference.
    assert found == []


def test_a_renamed_field_is_missing_unexpected_and_against_the_schema(txservices: XmlAnswers) -> None:
    drifted = PAYMENT_XML.replace("merchantTransactionId>", "merchantTransactionID>")

    found = txservices.differences(answer("get_payment", PAYMENT), in_xml("get_payment", drifted), same={})

    text = "\n".join(found)
    assert "/merchantTransactionId: missing in XML" in text
    assert "/merchantTransactionID: only in XML" in text
    assert "'merchantTransactionId' is a required property" in text
    assert all(line.startswith("get_payment (getPayment -> 200): ") for line in found)


def test_a_value_that_differs_is_named_with_both_values(txservices: XmlAnswers) -> None:
    wrong = PAYMENT_XML.replace("<amount>10.00</amount>", "<amount>1000</amount>")

    (found,) = txservices.differences(answer("get_payment", PAYMENT), in_xml("get_payment", wrong), same={})

    assert found.endswith("/amount: '1000' in XML, '10.00' in JSON")


def test_the_xml_calls_own_ids_stand_for_the_json_ones_and_only_they(txservices: XmlAnswers) -> None:
    twin = PAYMENT_XML.replace("240190134881", "999999999999").replace("order-1<", "order-2<")
    json_answer, xml_answer = answer("get_payment", PAYMENT), in_xml("get_payment", twin)
    same = {"240190134881": "999999999999", "order-1": "order-2"}

    assert txservices.differences(json_answer, xml_answer, same=same) == []
    assert len(txservices.differences(json_answer, xml_answer, same={})) == 2


def test_own_ids_are_the_id_results_that_differ() -> None:
    json_answer = ApiResult(
        "refund", answer("refund", {}).answer, {"payment_id": "1", "refund_id": "R1", "x": "a"}
    )
    xml_answer = ApiResult(
        "refund", answer("refund", {}).answer, {"payment_id": "1", "refund_id": "R2", "x": "b"}
    )

    assert XmlAnswers.own_ids(json_answer, xml_answer) == {"R1": "R2"}


def test_the_root_element_and_the_media_type_are_checked(txservices: XmlAnswers) -> None:
    wrong_root = PAYMENT_XML.replace("<response>", "<payment>").replace("</response>", "</payment>")
    json_answer = answer("get_payment", PAYMENT)

    (root,) = txservices.differences(json_answer, in_xml("get_payment", wrong_root), same={})
    (media,) = txservices.differences(json_answer, in_xml("get_payment", "{}", "application/json"), same={})
    (broken,) = txservices.differences(json_answer, in_xml("get_payment", "<response>"), same={})

    assert root.endswith("the root element is <payment>, not <response>")
    assert media.endswith("asked for application/xml, answered application/json")
    assert "not well-formed XML" in broken


def test_the_openapi_xml_mapping_is_followed(things: XmlAnswers) -> None:
    assert things.differences(answer("get_thing", THING), in_xml("get_thing", THING_XML), same={}) == []


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            THING_XML.replace("<count>3</count>", "<count>3.5</count>"),
            "/count: '3.5' is not of type 'integer'",
        ),
        (THING_XML.replace("<tag>b</tag>", "<label>b</label>"), "/tags/1: <tags> holds <label>, not <tag>"),
        (
            THING_XML.replace(' id="t1"', "").replace("<count>", "<id>t1</id><count>"),
            "/id: an element <id>, which the spec writes otherwise",
        ),
        (THING_XML.replace("<note>y</note>", ""), "/notes: 2 items in JSON, 1 in XML"),
        (THING_XML.replace("<live>true</live>", "<live>yes</live>"), "/live: 'yes' is not of type 'boolean'"),
        (
            THING_XML.replace("<thing ", "<response ").replace("</thing>", "</response>"),
            "the root element is <response>, not <thing>",
        ),
    ],
)
def test_each_break_of_the_mapping_is_found(things: XmlAnswers, xml: str, expected: str) -> None:
    found = things.differences(answer("get_thing", THING), in_xml("get_thing", xml), same={})

    assert any(expected in line for line in found), found


def test_a_gateway_without_xml_is_not_applicable_for_its_profiles_reason() -> None:
    with pytest.raises(NotApplicable, match=r"\(003\) .* names no XML answer"):
        XmlAnswers.of(load_profile("paylican"))
