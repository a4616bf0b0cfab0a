"""The DigitalBooker Admin and Public API connector (seed ``004_7907c60232aa2c57.txt``;
contract ``shared/contracts/digitalbooker.md``): :mod:`.names` (every inferred path and field
name, the one table a deployment corrects), :mod:`.client` (HTTP), :mod:`.mapping` (shapes
and local times), :mod:`.connector` (the sync operations)."""
