"""What the reconciliation steps share: the findings of one kind, turned into a report's
`details`, and the name a REST client takes for an instrument."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from exchanges.models import Instrument
from exchanges.venues.base import VenueError
from exchanges.venues.protocols import RestClient


@dataclass
class Findings:
    """What one step compared (`checked`) and every difference it found, each with what was
    done about it. `notes` are things worth an operator's eye that are not differences (an
    instrument the exchange does not list, a venue answer that could not be applied)."""

    checked: int = 0
    differences: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return len(self.differences)

    def differ(self, what: str, action: str, **facts) -> None:
        """Record one difference: `what` differed, the facts (ours, the venue's), `action`."""
        self.differences.append({"what": what, **_texts(facts), "action": action})

    def as_details(self, error: Exception | None = None) -> dict:
        """The report's `details`: the differences, the notes, and the error that ended the
        step (a venue's with its venue and code; any other is the gateway's own)."""
        details: dict = {"differences": self.differences}
        if self.notes:
            details["notes"] = self.notes
        if isinstance(error, VenueError):
            details["error"] = {
                "message": str(error),
                "venue": str(error.venue),
                "venue_code": error.code,
                "type": type(error).__name__,
            }
        elif error is not None:
            details["error"] = {
                "message": f"the gateway failed: {error}",
                "venue": "",
                "venue_code": "",
                "type": type(error).__name__,
            }
        return details


def _texts(facts: dict) -> dict:
    """Decimals as strings, so `details` is JSON and exact."""
    out = {}
    for name, value in facts.items():
        if isinstance(value, dict):
            out[name] = _texts(value)
        elif isinstance(value, Decimal):
            out[name] = str(value)
        else:
            out[name] = value
    return out


def client_symbol(client: RestClient, instrument: Instrument) -> str:
    """The name `client` takes for `instrument`: the venue symbol, as its symbol table spells
    it (Bybit's `linear:BTCUSDT`, whose bare names repeat across categories)."""
    symbols = getattr(client, "symbols", None)
    if symbols is None:
        return instrument.venue_symbol
    symbols.add(instrument.info())
    return symbols.venue(instrument.symbol)
