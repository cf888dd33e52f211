"""Agents of the magshock model: one module per agent type, behaviour only (no I/O)."""

from agents.authority import LicensingAuthority
from agents.domestic import DomesticProducer
from agents.exporter import ChineseExporter
from agents.irel import IREL
from agents.oem import OEM
from agents.regional import RegionalBuyer
from agents.row import RestOfWorldSupplier

__all__ = [
    "IREL",
    "OEM",
    "ChineseExporter",
    "DomesticProducer",
    "LicensingAuthority",
    "RegionalBuyer",
    "RestOfWorldSupplier",
]
