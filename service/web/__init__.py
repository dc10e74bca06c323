"""The French web pages."""

from service.web.account import AccountController, AccountPages, PasswordResetPages
from service.web.activity import ActivityPage
from service.web.campaigns import CampaignPages
from service.web.conventions import ConventionPages
from service.web.data_inclusion import DataInclusionPages
from service.web.directory import DirectoryPages
from service.web.entry import EntryPages
from service.web.import_list import ImportListPage
from service.web.imports import ImportPages
from service.web.network import NetworkPage
from service.web.referrals import ReferralPages
from service.web.reports import ReportPages
from service.web.search import SearchPage
from service.web.territories import TerritoryPages

web_handlers = [
    AccountController,
    AccountPages,
    PasswordResetPages,
    DataInclusionPages,
    ImportPages,
    ImportListPage,
    DirectoryPages,
    SearchPage,
    ReferralPages,
    ConventionPages,
    NetworkPage,
    ActivityPage,
    TerritoryPages,
    ReportPages,
    EntryPages,
    CampaignPages,
]
