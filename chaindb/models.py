"""Every model, imported once so that Base.metadata knows the whole schema."""

from chaindb.chains.models import Chain, ChainRole, ChainSegment
from chaindb.db import Base
from chaindb.districts.models import District
from chaindb.enterprises.models import Designation, Enterprise
from chaindb.projects.models import Project, ProjectStageEvent
from chaindb.supply.models import SupplyLink
from chaindb.targets.models import Target

__all__ = [
    "Base",
    "Chain",
    "ChainRole",
    "ChainSegment",
    "Designation",
    "District",
    "Enterprise",
    "Project",
    "ProjectStageEvent",
    "SupplyLink",
    "Target",
]

# Tables in the order a loader fills them and the home page lists them.
TABLES = [
    District,
    Chain,
    ChainSegment,
    Enterprise,
    Designation,
    ChainRole,
    SupplyLink,
    Project,
    ProjectStageEvent,
    Target,
]
