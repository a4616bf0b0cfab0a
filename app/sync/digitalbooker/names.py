"""Every inferred path and field name of DigitalBooker, in one table.

The DigitalBooker API reference's export kept each operation's description and each
attribute's type, values and range, but lost **both the HTTP paths and the names**; the
contract (``docs/clouds/digitalbooker.md``, "The inferred names (one table)") infers
them in the Stripe-like style the reference imitates. Nothing else in this package spells a
path or a cloud field name: a real deployment that spells one differently corrects it here,
in :data:`NAMES`, and nowhere else.

Keys are ``route.<operation>`` → ``(method, path relative to {base}/{lang})`` and
``<object>.<attribute>`` → the attribute's name in the cloud's JSON and queries.
"""

from __future__ import annotations

NAMES: dict[str, object] = {
    # ---- routes (contract "The inferred names": paths relative to {base}/{lang}) ----------
    "route.bookings": ("GET", "/admin/v1/bookings"),
    "route.booking": ("GET", "/admin/v1/bookings/{id}"),
    "route.deleted_bookings": ("GET", "/admin/v1/bookings/deleted"),
    "route.create_service_booking": ("POST", "/admin/v1/bookings/service"),
    "route.create_resource_booking": ("POST", "/admin/v1/bookings/resource"),
    "route.delete_booking": ("DELETE", "/admin/v1/bookings/{id}"),
    "route.confirm_booking": ("POST", "/admin/v1/bookings/{id}/confirm"),
    "route.unconfirm_booking": ("POST", "/admin/v1/bookings/{id}/unconfirm"),
    "route.payments": ("GET", "/admin/v1/bookings/{id}/payments"),
    "route.add_payment": ("POST", "/admin/v1/bookings/{id}/payments"),
    "route.users": ("GET", "/admin/v1/users"),
    "route.user": ("GET", "/admin/v1/users/{id}"),
    "route.create_user": ("POST", "/admin/v1/users"),
    "route.edit_user": ("POST", "/admin/v1/users/{id}"),
    "route.locations": ("GET", "/admin/v1/locations"),
    "route.location": ("GET", "/admin/v1/locations/{id}"),
    "route.resources": ("GET", "/admin/v1/resources"),
    "route.resource_categories": ("GET", "/admin/v1/resource_categories"),
    "route.location_work_hours": ("GET", "/admin/v1/workers/{id}/locations/{location_id}/work_hours"),
    "route.services": ("GET", "/admin/v1/services"),
    "route.service_categories": ("GET", "/admin/v1/service_categories"),
    "route.public_location": ("GET", "/public/v1/locations/{url_text}"),
    "route.public_services": ("GET", "/public/v1/locations/{url_text}/views/{view_url_text}/services"),
    "route.public_service_resources": (
        "GET",
        "/public/v1/locations/{url_text}/views/{view_url_text}/services/{service_id}/resources",
    ),
    # ---- list and error envelopes ---------------------------------------------------------
    "list.data": "data",
    "list.has_more": "has_more",
    "list.total_count": "total_count",
    "list.limit": "limit",
    "list.cursor": "cursor",
    "error.error": "error",
    "error.code": "code",
    "error.message": "message",
    "error.errors": "errors",
    # ---- the booking object and its queries ----------------------------------------------
    "booking.id": "id",
    "booking.type": "type",
    "booking.title": "title",
    "booking.location_id": "location_id",
    "booking.date": "date",
    "booking.start_time": "start_time",
    "booking.end_time": "end_time",
    "booking.service_id": "service_id",
    "booking.class_id": "class_id",
    "booking.resources": "resources",
    "booking.price": "price",
    "booking.tax": "tax",
    "booking.paid": "paid",
    "booking.user": "user",
    "booking.notes": "notes",
    "booking.confirmed": "confirmed",
    "booking.interface": "interface",
    "booking.created": "created",
    "booking.modified": "modified",
    "booking.start_offset": "start_offset",
    "booking.end_offset": "end_offset",
    "booking.duration": "duration",
    "booking.user_id": "user_id",
    "booking.extra_info": "extra_info",
    "query.location_id": "location_id",
    "query.resources": "resources",
    "query.date": "date",
    "query.from_date": "from_date",  # the one query name the API reference writes
    "query.to_date": "to_date",
    "query.changed_since": "changed_since",
    "query.type": "type",
    # ---- payments --------------------------------------------------------------------------
    "payment.id": "id",
    "payment.type": "type",
    "payment.amount": "amount",
    "payment.tax": "tax",
    # ---- users -----------------------------------------------------------------------------
    "user.id": "id",
    "user.name": "name",
    "user.first_name": "first_name",
    "user.last_name": "last_name",
    "user.email": "email",
    "user.phone": "phone",
    "user.type": "type",
    # ---- locations, resources, categories, services, work hours -------------------------
    "location.id": "id",
    "location.name": "name",
    "location.url_text": "url_text",  # written by the API reference
    "location.views": "views",
    "view.type": "type",
    "view.url_text": "url_text",
    "resource.id": "id",
    "resource.type": "type",
    "resource.name": "name",
    "resource.category_id": "category_id",
    "resource.bookable": "bookable",
    "category.id": "id",
    "category.name": "name",
    "category.services": "services",
    "service.id": "id",
    "service.name": "name",
    "service.category_id": "category_id",
    "service.durations": "durations",
    "work_hours.date": "date",
    "work_hours.location_id": "location_id",
    "work_hours.hours": "hours",
    "work_hours.start_time": "start_time",
    "work_hours.end_time": "end_time",
}


def route(operation: str) -> tuple[str, str]:
    """``(method, path)`` of ``operation`` (a ``route.*`` key without the prefix)."""
    return NAMES[f"route.{operation}"]  # type: ignore[return-value]


def name(key: str) -> str:
    """The cloud's name of ``key`` (``"booking.start_time"``). Raises KeyError for a key
    that is not in :data:`NAMES` (a typo here must not become a silent ``None``)."""
    return NAMES[key]  # type: ignore[return-value]
