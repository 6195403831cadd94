"""Reconcile accounts with their venues now and print the reports (`--account ID` to pick)."""

from django.core.management.base import BaseCommand, CommandError

from portfolio.reconciliation import reconcile_account
from portfolio.selectors import accounts_to_reconcile


class Command(BaseCommand):
    help = (
        "Compare the orders, fills, positions and balances of each enabled account (or of "
        "--account ID ...) with its venue, take the venue's, and print one report per kind."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, action="append", dest="accounts", metavar="ID")

    def handle(self, *args, accounts=None, **options) -> None:
        chosen = accounts_to_reconcile(ids=accounts)
        if accounts:
            missing = sorted(set(accounts) - {account.pk for account in chosen})
            if missing:
                raise CommandError(
                    f"no enabled account with keys and id {', '.join(map(str, missing))}"
                )
        if not chosen:
            raise CommandError("no enabled account with keys")
        errors = 0
        for account in chosen:
            for report in reconcile_account(account):
                errors += report.status == "error"
                self.stdout.write(
                    f"{account} (id {account.pk}) {report.kind}: {report.status}, "
                    f"{report.checked} checked, {report.mismatches} differed"
                )
                for difference in report.details.get("differences", []):
                    self.stdout.write(f"  {difference['what']}: {difference['action']}")
                if "error" in report.details:
                    self.stdout.write(f"  error: {report.details['error']['message']}")
        if errors:
            raise CommandError(f"{errors} reports ended in an error")
