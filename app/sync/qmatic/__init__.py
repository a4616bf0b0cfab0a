"""The Qmatic Cloud Appointments connector (Qmatic API reference; contract
``docs/clouds/qmatic.md``): :mod:`.client` (HTTP and the table of inferred paths and
names), :mod:`.mapping` (shapes and the one conversion of cloud times), :mod:`.connector`
(the sync operations)."""
