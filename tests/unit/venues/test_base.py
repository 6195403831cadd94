"""The contract every venue folder keeps (base.py protocols, STYLE.md "One shape"): the same
module names, the same names and signatures for the same jobs, so a fourth venue is a copied
folder filled in."""

import importlib
import inspect

import pytest

from exchanges.venues import base, protocols

VENUES = ["okx", "bybit", "deribit"]
PARSERS = {
    "parse_instrument": ["raw"],
    "parse_book": ["raw", "symbol", "received_ns"],
    "parse_ticker": ["raw", "symbol", "received_ns"],
    "parse_trade": ["raw", "symbol", "received_ns"],
    "parse_order": ["raw", "symbol", "received_ns"],
    "parse_fill": ["raw", "symbol", "received_ns"],
    "parse_position": ["raw", "symbol", "received_ns"],
    "parse_balances": ["raw", "received_ns"],
}


def module(venue: str, name: str):
    return importlib.import_module(f"exchanges.venues.{venue}.{name}")


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("venue", VENUES)
def test_parse_functions_share_names_and_signatures(venue):
    parse = module(venue, "parse")
    assert {name: parameters(getattr(parse, name)) for name in PARSERS} == PARSERS


@pytest.mark.parametrize("venue", VENUES)
def test_error_for_reads_the_one_table_type(venue):
    constants = module(venue, "constants")
    assert parameters(constants.error_for) == ["code", "message", "http_status"]
    code, (error, _hint) = next(iter(constants.ERRORS.items()))
    assert isinstance(code, str)
    raised = constants.error_for(code, "text")
    assert (type(raised), raised.code, raised.message, raised.venue) == (error, code, "text", venue)
    unknown = constants.error_for("no-such-code", "text")
    assert type(unknown) is base.VenueError


@pytest.mark.parametrize("venue", VENUES)
def test_signer_symbol_table_and_rest_client_names(venue):
    name = {"okx": "Okx", "bybit": "Bybit", "deribit": "Deribit"}[venue]
    signer_class = getattr(module(venue, "auth"), f"{name}Signer")
    signer = signer_class(base.Credentials("key", "secret", "pass"))
    assert isinstance(signer, protocols.Signer)
    assert parameters(signer.rest_headers) == ["method", "request_path", "body"]
    assert isinstance(module(venue, "symbols").SymbolTable(), protocols.SymbolTable)
    rest_class = getattr(module(venue, "rest"), f"{name}RestClient")
    limiter = inspect.signature(rest_class).parameters["limiter"]
    assert (limiter.kind, limiter.default) == (inspect.Parameter.KEYWORD_ONLY, None)
