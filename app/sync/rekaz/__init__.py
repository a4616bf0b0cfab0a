"""The Rekaz connector (Rekaz API reference; contract ``docs/clouds/rekaz.md``)."""
