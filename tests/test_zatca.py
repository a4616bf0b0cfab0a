"""The ZATCA phase-1 QR payload of a simplified tax invoice: Base64 of TLV tags 1–5."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import zatca

# The worked example of ZATCA's QR code guideline (seller "Bobs Records").
EXAMPLE = "AQxCb2JzIFJlY29yZHMCDzMxMDEyMjM5MzUwMDAwMwMUMjAyMi0wNC0yNVQxNTozMDowMFoEBzEwMDAuMDAFBjE1MC4wMA=="


def test_the_guideline_example_encodes_and_decodes():
    assert (
        zatca.invoice_qr_payload(
            "Bobs Records", "310122393500003", "2022-04-25T15:30:00Z", "1000.00", "150.00"
        )
        == EXAMPLE
    )
    assert zatca.read_invoice_qr(EXAMPLE) == {
        "sellerName": "Bobs Records",
        "vatNumber": "310122393500003",
        "timestamp": "2022-04-25T15:30:00Z",
        "total": "1000.00",
        "vatTotal": "150.00",
    }


def test_arabic_seller_name_length_is_counted_in_utf8_bytes():
    raw = zatca.encode_tlv({1: "عيادة"})
    assert raw[0] == 1 and raw[1] == len("عيادة".encode()) == 10
    assert zatca.decode_tlv(raw) == {1: "عيادة"}


@given(st.dictionaries(st.integers(1, 255), st.text(max_size=60), max_size=8))
def test_tlv_round_trips(fields):
    assert zatca.decode_tlv(zatca.encode_tlv(fields)) == fields


def test_bad_payloads_are_refused():
    with pytest.raises(zatca.TLVError):
        zatca.encode_tlv({1: "x" * 256})
    with pytest.raises(zatca.TLVError):
        zatca.decode_tlv(bytes([1, 5]) + b"abc")
    with pytest.raises(zatca.TLVError):
        zatca.read_invoice_qr("not base64!")
    with pytest.raises(zatca.TLVError):
        zatca.read_invoice_qr(base64.b64encode(zatca.encode_tlv({1: "a", 2: "b"})).decode())
