"""A Graph-compatible server for tests and benchmarks: SharePoint sites, lists, items, $batch.

async with GraphServer(seed=1) as server:
    server.faults.throttle(2, retry_after=1)
    ...  # point BCP_GRAPH_BASE_URL at server.url
    assert not server.writes()
"""

from .faults import Fault, FaultPlan, UnitBudget
from .server import GraphServer, Recorded
from .state import APP, DEFAULT_SITE_ID, GraphState, user

__all__ = [
    "APP",
    "DEFAULT_SITE_ID",
    "Fault",
    "FaultPlan",
    "GraphServer",
    "GraphState",
    "Recorded",
    "UnitBudget",
    "user",
]
