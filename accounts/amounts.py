"""Credit figures: what the portal accepts from a person, what it stores, and what it takes from
the server — the one rule for their size.

- **Amounts a person types** (add, deduct, move, low-balance threshold) are what the server can
  hold: playSMS keeps money in ``DECIMAL(13,3)`` columns (the user's cached credit, the credit
  ledger, billing), so an amount has at most 3 decimals and at most :data:`MAX_AMOUNT`; a
  bigger one would be cut by MySQL or overflow it, and the portal would record what the server
  did not do. 13 significant digits also stay exact where the database reads a figure through
  a float (SQLite keeps 15 significant digits).
- **Stored figures** (balances, ledger moves, the server's cached figure, transfer readings)
  are wider than any amount: a balance is a sum of moves, and a server figure is whatever the
  server reports — a patched server may hold more than 1.4.8. The columns take
  :data:`MONEY_DIGITS` digits: with the former 16, a balance of 10¹² could not be read back on
  SQLite (Django rounds the float SQLite returns in the column's precision), and every page
  listing that account failed for everyone.
- **A server figure** beyond what the columns hold (or not a finite number) is refused as
  unreadable, never stored wrongly (:func:`server_figure`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

#: playSMS's money columns: DECIMAL(13,3)
AMOUNT_PLACES = 3
MAX_AMOUNT = Decimal("9999999999.999")
#: the portal's money columns
MONEY_DIGITS = 24
MONEY_PLACES = 4
MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)

TOO_BIG = "At most {max} — the most BearSMS can hold."
TOO_PRECISE = f"Use at most {AMOUNT_PLACES} decimals (BearSMS keeps no more)."


class FigureTooLarge(ValueError):
    """A server figure the portal cannot hold."""


def money_field(**kwargs) -> models.DecimalField:
    """A model column for a credit figure (see the module docstring for its width)."""
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def money_output() -> models.DecimalField:
    """The output field of a computed credit figure (sums of ledger moves)."""
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)


def _plain(value: Decimal) -> str:
    return f"{value:,.{AMOUNT_PLACES}f}"


def amount_form_field(*, signed: bool = False, **kwargs) -> forms.DecimalField:
    """A form field for an amount typed by a person: positive (or any sign, ``signed``), at most
    :data:`MAX_AMOUNT`, at most :data:`AMOUNT_PLACES` decimals, each with a plain message."""
    validators = [MaxValueValidator(MAX_AMOUNT, TOO_BIG.format(max=_plain(MAX_AMOUNT)))]
    if signed:
        validators.append(MinValueValidator(-MAX_AMOUNT, TOO_BIG.format(max=_plain(-MAX_AMOUNT))))
    else:
        smallest = Decimal(1).scaleb(-AMOUNT_PLACES)
        validators.append(MinValueValidator(smallest, "Enter an amount greater than zero."))
    field = forms.DecimalField(decimal_places=AMOUNT_PLACES, validators=validators, **kwargs)
    field.error_messages["invalid"] = "Enter a number, such as 12.5."
    field.error_messages["max_decimal_places"] = TOO_PRECISE
    return field


def check_amount(value) -> Decimal:
    """An amount for the server, or ``ValueError`` with the reason in words (services call it;
    the forms run the same bounds field by field)."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("Enter a number, such as 12.5.") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError("Enter an amount greater than zero.")
    if amount > MAX_AMOUNT:
        raise ValueError(TOO_BIG.format(max=_plain(MAX_AMOUNT)))
    if amount != amount.quantize(Decimal(1).scaleb(-AMOUNT_PLACES), rounding="ROUND_DOWN"):
        raise ValueError(TOO_PRECISE)
    return amount


def server_figure(value: Decimal) -> Decimal:
    """A figure the server reported, as the portal stores it; ``FigureTooLarge`` when no
    column of the portal could hold it."""
    if not value.is_finite() or abs(value) >= MONEY_LIMIT:
        raise FigureTooLarge(f"The server reported a credit figure the portal cannot hold: {value}")
    return value.quantize(Decimal(1).scaleb(-MONEY_PLACES))
