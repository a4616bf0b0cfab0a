"""The Agendize Scheduling API 2.1 connector (Agendize API reference; contract
``docs/clouds/agendize.md``): :mod:`.client` (HTTP), :mod:`.mapping` (shapes),
:mod:`.connector` (the sync operations)."""
