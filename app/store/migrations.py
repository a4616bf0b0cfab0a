"""Schema migrations (sqlite-utils ``Migrations``; each runs in one transaction).

Add a new function at the end to change the schema; never edit an applied one.
Column names are the API's field names (see :mod:`app.domain.model`).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("istiqbal")


@migrations()
def m001_initial(db: Database) -> None:
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["resources"].create(
        {"id": str, "name": str, "name_translations": str, "category": str, "types": str,
         "on": int, "activated": int, "timeRules": str, "color": str, "sortOrder": int},
        pk="id",
    )
    db["types"].create(
        {"id": str, "name": str, "name_translations": str, "minutes": int,
         "leaveMinutesBefore": int, "leaveMinutesAfter": int, "color": str, "price": str,
         "autoConfirm": int, "on": int},
        pk="id",
    )
    db["customers"].create(
        {"id": str, "firstName": str, "lastName": str, "phone": str, "email": str,
         "note": str, "customerNumber": int, "searchText": str, "createdAt": str},
        pk="id",
    )
    db["customers"].create_index(["phone"])
    db["customers"].create_index(["customerNumber"], unique=True)
    db["bookings"].create(
        {"id": str, "status": str, "visitStatus": str, "startDateTime": str,
         "endDateTime": str, "duration": int, "typeId": str, "resourceId": str,
         "customerId": str, "note": str, "cancelReason": str, "queueNumber": int,
         "assignmentTimeout": int, "checkedInAt": str, "startedAt": str, "endedAt": str,
         "createdAt": str, "updatedAt": str, "version": int},
        pk="id",
    )
    db["bookings"].create_index(["startDateTime"])
    db["bookings"].create_index(["resourceId", "startDateTime"])
    db["bookings"].create_index(["status", "createdAt"])
    db["bookings"].create_index(["customerId"])
    db["attendances"].create(
        {"id": str, "type": str, "bookingId": str, "customerId": str, "createdAt": str},
        pk="id",
    )
    db["attendances"].create_index(["bookingId"])
    # entity: "booking" or "customer"; resources and types keep the cloud's id as theirs
    db["cloud_ids"].create({"entity": str, "localId": str, "cloud": str, "cloudId": str},
                           pk=("entity", "cloud", "cloudId"))
    db["cloud_ids"].create_index(["entity", "localId", "cloud"], unique=True)
    db["history"].create(
        {"id": int, "bookingId": str, "createdAt": str, "action": str, "actor": str,
         "deskId": str, "before": str, "after": str},
        pk="id",
    )
    db["history"].create_index(["bookingId", "id"])


SCHEMA_VERSION = len(migrations._migrations)


def apply(db: Database) -> None:
    """Bring ``db`` to the newest schema; each step is atomic with its record."""
    migrations.apply(db)
