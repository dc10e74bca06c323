"""The JSON API under /api/v1, documented by the OpenAPI schema at /api/schema."""

from litestar import Router

from service.api.activity import ActivityController
from service.api.audit import AuditController
from service.api.campaigns import CampaignController
from service.api.conventions import ConventionController
from service.api.data_inclusion import DataInclusionController
from service.api.directory import DirectoryController
from service.api.exports import ExportController
from service.api.imports import ImportController
from service.api.merges import MergeController
from service.api.network import NetworkController
from service.api.referrals import LinkController, ReferralController, ResponseTimesController
from service.api.reports import ReportController
from service.api.search import SearchController
from service.api.territories import TerritoryController

api_router = Router(
    path="/api/v1",
    route_handlers=[
        DirectoryController,
        ImportController,
        SearchController,
        ReferralController,
        LinkController,
        ResponseTimesController,
        ConventionController,
        NetworkController,
        ActivityController,
        TerritoryController,
        AuditController,
        DataInclusionController,
        ExportController,
        MergeController,
        ReportController,
        CampaignController,
    ],
    tags=["API"],
)
