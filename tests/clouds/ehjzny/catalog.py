"""Customers and resource time rules of the simulated cloud (contract "Operations":
customers list/get/update, time rules GET/PUT; Ehjzny API reference, "Manage Time Rules").

Time rules are in the contract's shape ("Shapes the reference lost"), checked on PUT.

Simulation choices (the API reference does not say): ``POST /management/customers`` creates a
customer and answers 409 ``CUSTOMER-EXISTS`` when the phone or email is already known,
so a client retrying a create after a lost reply sees the first one; scheduling with an
unknown ``customerIdentifier`` phone/email creates the customer.
"""

from __future__ import annotations

from .errors import CUSTOMER_EXISTS
from .rules import SimError, invalid, iso
from .state import CUSTOMER_DEFAULTS, cloud_id

CUSTOMER_FIELDS = tuple(CUSTOMER_DEFAULTS)
TIME_RULE_FIELDS = ("depthOfDays", "rules", "scheduleAfterHoursFromNow")


class CatalogMixin:
    def create_customer(self, body: dict) -> dict:
        with self.lock:
            if self._customer_by(body.get("phone"), body.get("email")):
                raise SimError(CUSTOMER_EXISTS, "a customer with this phone or email exists", 409)
            customer = {
                **CUSTOMER_DEFAULTS,
                **{k: body[k] for k in CUSTOMER_FIELDS if k in body},
                "id": cloud_id(),
                "createdAt": iso(self.clock.now()),
            }
            self.customers[customer["id"]] = customer
            return dict(customer)

    def update_customer(self, customer_id: str, body: dict) -> dict:
        with self.lock:
            customer = self.get("customers", customer_id)
            customer.update({k: body[k] for k in CUSTOMER_FIELDS if k in body})
            return dict(customer)

    def find_or_create_customer(self, identifier: dict | None) -> dict:
        """The customer of a ``customerIdentifier`` (``{id}``, ``{phone}`` or ``{email}``)."""
        identifier = identifier or {}
        with self.lock:
            if identifier.get("id"):
                return self.get("customers", identifier["id"])
            if not (identifier.get("phone") or identifier.get("email")):
                raise invalid("customerIdentifier needs phone, email or id")
            found = self._customer_by(identifier.get("phone"), identifier.get("email"))
            return found or self.create_customer(identifier)

    def get_time_rules(self, resource_id: str) -> dict:
        with self.lock:
            self.get("resources", resource_id)
            return dict(
                self.time_rules.get(resource_id)
                or {"depthOfDays": 0, "rules": [], "scheduleAfterHoursFromNow": 0}
            )

    def put_time_rules(self, resource_id: str, body: dict) -> dict:
        with self.lock:
            self.get("resources", resource_id)
            rules = body.get("rules", [])
            if not isinstance(rules, list) or not all(
                isinstance(r, dict)
                and isinstance(r.get("weekDays"), list)
                and isinstance(r.get("times"), list)
                and all(isinstance(d, int) and 0 <= d <= 6 for d in r["weekDays"])
                and all(
                    isinstance(t, dict) and isinstance(t.get("from"), int) and isinstance(t.get("to"), int)
                    for t in r["times"]
                )
                for r in rules
            ):
                raise invalid("rules: [{weekDays: [0..6], times: [{from, to}] (military)}]")
            self.time_rules[resource_id] = {k: body[k] for k in TIME_RULE_FIELDS if k in body}
            return self.get_time_rules(resource_id)

    def _customer_by(self, phone: str | None, email: str | None) -> dict | None:
        for customer in self.customers.values():
            if (phone and customer.get("phone") == phone) or (email and customer.get("email") == email):
                return customer
        return None
