"""The Rekaz connector (seed ``002_8fee4d72956658de.txt``; contract ``shared/contracts/rekaz.md``)."""
