"""Every model, imported once so that Base.metadata knows the whole schema."""

from chaindb.auth.models import ApiToken, LoginAttempt, User
from chaindb.chains.models import Chain, ChainRole, ChainSegment
from chaindb.changes.models import Change
from chaindb.db import Base
from chaindb.districts.models import District
from chaindb.enterprises.models import Designation, Enterprise, EnterpriseMerge
from chaindb.projects.models import Project, ProjectStageEvent
from chaindb.reports.models import ReportRefresh
from chaindb.supply.models import SupplyLink
from chaindb.targets.models import Target

__all__ = [
    "ApiToken",
    "Base",
    "Chain",
    "ChainRole",
    "ChainSegment",
    "Change",
    "Designation",
    "District",
    "Enterprise",
    "EnterpriseMerge",
    "LoginAttempt",
    "Project",
    "ProjectStageEvent",
    "ReportRefresh",
    "SupplyLink",
    "Target",
    "User",
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
