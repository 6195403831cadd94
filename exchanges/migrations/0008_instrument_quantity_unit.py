"""Each instrument says what its order quantity counts (`exchanges.venues.quantities`): the
base currency, contracts of `contract_size`, or the quote currency (USD). Existing rows get the
unit their venue, kind and linearity give."""

from django.db import migrations, models

from exchanges.venues import base


def unit_of(venue: str, kind: str, linear: bool) -> str:
    """`quantities.quantity_unit` on a stored row (the function itself takes an InstrumentInfo,
    which a migration's historical model cannot build)."""
    if kind == base.InstrumentKind.SPOT:
        return base.QuantityUnit.BASE
    if venue == base.Venue.OKX:
        return base.QuantityUnit.CONTRACTS
    if not linear and kind != base.InstrumentKind.OPTION:
        return base.QuantityUnit.QUOTE
    return base.QuantityUnit.BASE


def fill_units(apps, schema_editor):
    Instrument = apps.get_model("exchanges", "Instrument")
    for instrument in Instrument.objects.select_related("exchange"):
        instrument.quantity_unit = unit_of(
            instrument.exchange.venue, instrument.kind, instrument.linear
        )
        instrument.save(update_fields=["quantity_unit"])


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0007_instrument_min_notional")]

    operations = [
        migrations.AddField(
            model_name="instrument",
            name="quantity_unit",
            field=models.CharField(default="base", max_length=12),
            preserve_default=False,
        ),
        migrations.RunPython(fill_units, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="instrument",
            name="quantity_unit",
            field=models.CharField(
                choices=[
                    ("base", "Base currency"),
                    ("contracts", "Contracts"),
                    ("quote", "Quote currency (USD)"),
                ],
                help_text="What an order quantity counts (exchanges.venues.quantities)",
                max_length=12,
            ),
        ),
    ]
