"""The Ehjzny cloud connector (contract: shared/contracts/ehjzny.md)."""
