"""The Ehjzny cloud connector (contract: docs/clouds/ehjzny.md)."""
