"""The Agendize Scheduling API 2.1 connector (seed ``003_707c71aee94e5c34.txt``; contract
``shared/contracts/agendize.md``): :mod:`.client` (HTTP), :mod:`.mapping` (shapes),
:mod:`.connector` (the sync operations)."""
