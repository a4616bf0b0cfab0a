"""The DigitalBooker Admin and Public API connector (DigitalBooker API reference; contract ``docs/clouds/digitalbooker.md``): :mod:`.names` (every inferred path and field
name, the one table a deployment corrects), :mod:`.client` (HTTP), :mod:`.mapping` (shapes
and local times), :mod:`.connector` (the sync operations)."""
