"""Load every instrument the enabled exchanges list into `Instrument` (`--venue` to pick one)."""

from django.core.management.base import BaseCommand, CommandError

from exchanges.selectors import exchanges_enabled
from exchanges.services import instruments_sync
from exchanges.venues.base import Venue, VenueError


class Command(BaseCommand):
    help = "Fetch the instruments of each enabled exchange from the venue and store them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--venue", choices=[venue.value for venue in Venue])

    def handle(self, *args, venue=None, **options) -> None:
        exchanges = list(exchanges_enabled(venue=venue))
        if not exchanges:
            raise CommandError(f"no enabled exchange{f' for {venue}' if venue else ''}")
        failures = 0
        for exchange in exchanges:
            try:
                created, updated, deactivated = instruments_sync(exchange=exchange)
            except VenueError as exc:
                failures += 1
                self.stderr.write(f"{exchange}: {exc}")
                continue
            self.stdout.write(
                f"{exchange}: {created} created, {updated} updated, {deactivated} deactivated"
            )
        if failures:
            raise CommandError(f"{failures} of {len(exchanges)} exchanges could not be synced")
