"""Instruments and their contract terms: immutable, hashable value objects.

Every instrument knows its kind, the price symbol(s) it depends on, the currency its
price is quoted in and its contract size; none knows a price. Two positions on equal
instruments share one row of the scenario P&L matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar

from crossmargin.core.errors import InputError
from crossmargin.core.money import check_currency

__all__ = [
    "BOND_FREQUENCIES",
    "AssetClass",
    "Bond",
    "CryptoSpot",
    "Equity",
    "Future",
    "FutureOption",
    "Instrument",
    "Option",
    "Perpetual",
    "ProductClass",
    "RateFuture",
    "Right",
    "Settlement",
    "Style",
    "TreasuryFuture",
]


class ProductClass(StrEnum):
    """Equity product class, as FINRA 4210(g) portfolio margin groups them."""

    SINGLE_STOCK = "single-stock"
    NARROW_INDEX = "narrow-index"
    BROAD_BASED = "broad-based"
    BROAD_BASED_HIGH_CAP = "broad-based-high-cap"


class AssetClass(StrEnum):
    """The silo an instrument belongs to today (who regulates and margins it)."""

    EQUITY = "equity"
    EQUITY_INDEX = "equity-index"
    TREASURY = "treasury"
    RATES = "rates"
    COMMODITY = "commodity"
    CRYPTO = "crypto"


class Right(StrEnum):
    """Option right."""

    CALL = "call"
    PUT = "put"


class Style(StrEnum):
    """Option exercise style."""

    EUROPEAN = "european"
    AMERICAN = "american"


class Settlement(StrEnum):
    """How a contract settles.

    ``cash`` and ``physical`` for listed securities and futures; ``linear`` (value in the
    quote currency, e.g. USDT or USDC) and ``inverse`` (coin-margined: value in the base
    coin, contract face in the quote currency) for crypto derivatives.
    """

    CASH = "cash"
    PHYSICAL = "physical"
    LINEAR = "linear"
    INVERSE = "inverse"


def _positive(value: float, field: str) -> None:
    if not value > 0 or value != value or value == float("inf"):
        raise InputError("must be a positive finite number", field=field, value=value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """Base of all instruments.

    Attributes
    ----------
    currency : str
        Currency the instrument's price and P&L are expressed in before conversion.
    """

    kind: ClassVar[str] = "instrument"
    currency: str = "USD"
    asset_class: AssetClass = AssetClass.EQUITY

    def __post_init__(self) -> None:
        check_currency(self.currency)

    @property
    def underlying_symbol(self) -> str:
        """The price symbol whose moves drive this instrument's value."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """A short human-readable identifier."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class Equity(Instrument):
    """A stock or an ETF, one share per unit."""

    kind: ClassVar[str] = "equity"
    symbol: str
    product_class: ProductClass = ProductClass.SINGLE_STOCK
    asset_class: AssetClass = AssetClass.EQUITY

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.symbol


    @property
    def label(self) -> str:  # noqa: D102
        return self.symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class CryptoSpot(Instrument):
    """A coin held as a position (not as collateral), priced in ``currency``."""

    kind: ClassVar[str] = "spot"
    asset: str
    asset_class: AssetClass = AssetClass.CRYPTO

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        check_currency(self.asset, field="asset")

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.asset


    @property
    def label(self) -> str:  # noqa: D102
        return f"{self.asset} spot"


@dataclass(frozen=True, slots=True, kw_only=True)
class Future(Instrument):
    """A dated future on an index, commodity, Treasury, rate or coin.

    ``multiplier`` is the contract size in units of the underlying (linear); for an
    inverse contract it is the face value of one contract in ``currency`` (e.g. USD 10).
    """

    kind: ClassVar[str] = "future"
    symbol: str
    underlying: str
    expiry: date
    multiplier: float = 1.0
    settlement: Settlement = Settlement.CASH
    asset_class: AssetClass = AssetClass.EQUITY_INDEX

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        _positive(self.multiplier, "multiplier")

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.underlying


    @property
    def label(self) -> str:  # noqa: D102
        return self.symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class TreasuryFuture(Future):
    """A Treasury note or bond future, valued as the forward of its notional bond.

    ``underlying`` names the curve (``UST``); the notional bond has coupon
    ``notional_coupon`` (6% at CME) and ``deliverable_years`` to maturity at delivery,
    a stand-in for the cheapest-to-deliver issue. ``multiplier`` is the face per contract
    divided by 100 (1,000 for a 100,000 face note future quoted in points).
    """

    kind: ClassVar[str] = "treasury_future"
    multiplier: float = 1000.0
    notional_coupon: float = 0.06
    deliverable_years: float = 7.0
    asset_class: AssetClass = AssetClass.TREASURY

    def __post_init__(self) -> None:
        Future.__post_init__(self)
        _positive(self.deliverable_years, "deliverable_years")


@dataclass(frozen=True, slots=True, kw_only=True)
class RateFuture(Future):
    """A short-term interest-rate future (three-month SOFR style): price = 100 - 100 r.

    ``underlying`` names the curve; ``tenor_years`` is the rate's tenor read off it.
    ``multiplier`` is the value of one price point (2,500 for three-month SOFR).
    """

    kind: ClassVar[str] = "rate_future"
    multiplier: float = 2500.0
    tenor_years: float = 0.25
    asset_class: AssetClass = AssetClass.RATES

    def __post_init__(self) -> None:
        Future.__post_init__(self)
        _positive(self.tenor_years, "tenor_years")


@dataclass(frozen=True, slots=True, kw_only=True)
class Perpetual(Instrument):
    """A perpetual swap: a future that never expires, kept near the index by funding.

    Linear perps are quoted and settled in ``currency`` (``quote``, e.g. USDT); inverse
    perps have a face of ``multiplier`` units of ``currency`` and settle in the coin.
    """

    kind: ClassVar[str] = "perpetual"
    underlying: str
    settlement: Settlement = Settlement.LINEAR
    multiplier: float = 1.0
    asset_class: AssetClass = AssetClass.CRYPTO

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        _positive(self.multiplier, "multiplier")
        if self.settlement not in (Settlement.LINEAR, Settlement.INVERSE):
            raise InputError(
                "a perpetual settles linear or inverse", field="settlement", value=self.settlement
            )

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.underlying


    @property
    def label(self) -> str:  # noqa: D102
        return f"{self.underlying}-PERP/{self.currency}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Option(Instrument):
    """A listed option on a stock, ETF, index or coin.

    Crypto options settle ``inverse`` (premium and settlement in the coin, Deribit style)
    or ``linear`` (in USDC); listed equity options settle ``physical`` (stock) or ``cash``
    (index).
    """

    kind: ClassVar[str] = "option"
    underlying: str
    right: Right
    strike: float
    expiry: date
    multiplier: float = 100.0
    style: Style = Style.EUROPEAN
    settlement: Settlement = Settlement.PHYSICAL
    asset_class: AssetClass = AssetClass.EQUITY

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        _positive(self.strike, "strike")
        _positive(self.multiplier, "multiplier")

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.underlying


    @property
    def is_call(self) -> bool:
        """True for a call."""
        return self.right is Right.CALL

    @property
    def label(self) -> str:  # noqa: D102
        return (
            f"{self.underlying} {self.expiry.isoformat()} {self.strike:g} "
            f"{'C' if self.is_call else 'P'}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FutureOption(Instrument):
    """An option on a future (priced with Black-76 on the future's price)."""

    kind: ClassVar[str] = "future_option"
    future: Future
    right: Right
    strike: float
    expiry: date
    multiplier: float = 1.0
    style: Style = Style.AMERICAN

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        object.__setattr__(self, "asset_class", self.future.asset_class)
        _positive(self.strike, "strike")
        _positive(self.multiplier, "multiplier")
        if self.expiry > self.future.expiry:
            raise InputError(
                "an option cannot expire after its future",
                field="expiry",
                value=self.expiry.isoformat(),
            )

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.future.underlying


    @property
    def is_call(self) -> bool:
        """True for a call."""
        return self.right is Right.CALL

    @property
    def label(self) -> str:  # noqa: D102
        return f"{self.future.symbol} {self.expiry.isoformat()} {self.strike:g} " + (
            "C" if self.is_call else "P"
        )


#: Coupon payments a year a bond may have (what the bond pricer supports).
BOND_FREQUENCIES = (1, 2, 4, 12)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bond(Instrument):
    """A fixed-coupon bullet Treasury note or bond; quantity is face value.

    Its value per unit of face is the full (dirty) price off the Treasury curve.
    """

    kind: ClassVar[str] = "bond"
    symbol: str
    coupon: float
    maturity: date
    curve: str = "UST"
    frequency: int = 2
    asset_class: AssetClass = AssetClass.TREASURY

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        if not 0 <= self.coupon < 1:
            raise InputError(
                "coupon is a decimal rate in [0, 1)", field="coupon", value=self.coupon
            )
        if self.frequency not in BOND_FREQUENCIES:
            raise InputError("frequency must be 1, 2, 4 or 12", field="frequency",
                             value=self.frequency)

    @property
    def underlying_symbol(self) -> str:  # noqa: D102
        return self.curve


    @property
    def label(self) -> str:  # noqa: D102
        return self.symbol
