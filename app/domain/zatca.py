"""The QR code payload of a Saudi simplified tax invoice (ZATCA e-invoicing phase 1).

Source: ZATCA "E-Invoicing Detailed Guidelines" / "QR Code" (phase 1, generation): the
QR code holds Base64 of a TLV (tag-length-value) sequence of five fields, each one byte
tag, one byte length (of the UTF-8 value, so at most 255 bytes) and the UTF-8 value:

1. seller's name
2. seller's VAT registration number (15 digits)
3. the invoice's time stamp, ISO 8601 (``2026-12-07T10:15:00Z``)
4. the invoice total with VAT (``"115.00"``)
5. the VAT total (``"15.00"``)

Qt-free and without a QR library: drawing the code is the desk's (``ui/paper/receipt.py``).
"""

from __future__ import annotations

import base64
import binascii

TAGS = {1: "sellerName", 2: "vatNumber", 3: "timestamp", 4: "total", 5: "vatTotal"}


class TLVError(ValueError):
    """A payload that is not valid Base64 TLV, or a value too long for one length byte."""


def encode_tlv(fields: dict[int, str]) -> bytes:
    """``{1: "Clinic", 2: "300...", ...}`` → the TLV bytes, tags in ascending order.
    Raises TLVError for a tag outside 1..255 or a value over 255 UTF-8 bytes."""
    out = bytearray()
    for tag in sorted(fields):
        value = str(fields[tag]).encode("utf-8")
        if not 1 <= tag <= 255:
            raise TLVError(f"tag {tag} is not one byte")
        if len(value) > 255:
            raise TLVError(f"tag {tag}: {len(value)} bytes do not fit one length byte")
        out += bytes((tag, len(value))) + value
    return bytes(out)


def decode_tlv(data: bytes) -> dict[int, str]:
    """TLV bytes → ``{tag: value}``. Raises TLVError for a truncated sequence or bad UTF-8."""
    out, i = {}, 0
    while i < len(data):
        if i + 2 > len(data):
            raise TLVError("truncated TLV header")
        tag, length = data[i], data[i + 1]
        value = data[i + 2 : i + 2 + length]
        if len(value) != length:
            raise TLVError(f"tag {tag}: truncated value")
        try:
            out[tag] = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TLVError(f"tag {tag}: not UTF-8") from exc
        i += 2 + length
    return out


def invoice_qr_payload(seller_name: str, vat_number: str, timestamp: str, total: str, vat_total: str) -> str:
    """The Base64 text the QR code of a simplified tax invoice carries (tags 1–5 above).
    ``total`` and ``vat_total`` are major-unit decimal strings (``"115.00"``)."""
    tlv = encode_tlv({1: seller_name, 2: vat_number, 3: timestamp, 4: total, 5: vat_total})
    return base64.b64encode(tlv).decode("ascii")


def read_invoice_qr(payload: str) -> dict[str, str]:
    """The Base64 payload back to ``{"sellerName", "vatNumber", "timestamp", "total",
    "vatTotal"}``. Raises TLVError for bad Base64 or TLV, or a missing tag."""
    try:
        data = base64.b64decode(payload.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise TLVError("not Base64") from exc
    fields = decode_tlv(data)
    missing = [t for t in TAGS if t not in fields]
    if missing:
        raise TLVError(f"missing tags {missing}")
    return {name: fields[tag] for tag, name in TAGS.items()}
