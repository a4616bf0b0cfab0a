"""The Qmatic Cloud Appointments connector (seed ``001_07b4ebc8faea0778.txt``; contract
``shared/contracts/qmatic.md``): :mod:`.client` (HTTP and the table of inferred paths and
names), :mod:`.mapping` (shapes and the one conversion of cloud times), :mod:`.connector`
(the sync operations)."""
