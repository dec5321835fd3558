"""Pure, stateless, vectorised pricing formulas.

Every function takes keyword-only arguments, broadcasts array inputs against each
other (any shapes) and returns float64 arrays; none knows about accounts, books or
market snapshots. Modules:

* `black`: European options (generalized Black-Scholes-Merton, Black-Scholes, Black-76);
* `greeks`: their analytic sensitivities;
* `american`: Bjerksund-Stensland American approximations (2002, 1993, the best of both);
* `curves`: Treasury par-yield bootstrap, zero-rate interpolation, discount factors;
* `bonds`: fixed-coupon bullet bonds off a zero curve (price, accrued, duration, DV01);
* `futures`: cost-of-carry forward, linear and inverse futures P&L, perpetual funding;
* `inverse`: coin-settled options as Deribit quotes them, coin/USD conversions.
"""

from crossmargin.pricing.american import (
    american_black76,
    american_black_scholes,
    american_gbsm,
    bjerksund_stensland_1993,
    bjerksund_stensland_2002,
)
from crossmargin.pricing.black import black76, black_scholes, gbsm
from crossmargin.pricing.bonds import (
    accrued_interest,
    bond_cash_flows,
    bond_clean_price,
    bond_dirty_price,
    dv01,
    modified_duration,
    year_fraction,
)
from crossmargin.pricing.curves import bootstrap_zero_curve, discount_factors, zero_rates_at
from crossmargin.pricing.futures import (
    forward,
    funding_payment,
    inverse_futures_pnl,
    inverse_futures_pnl_usd,
    inverse_notional,
    linear_futures_pnl,
)
from crossmargin.pricing.greeks import Greeks, black76_greeks, black_scholes_greeks, gbsm_greeks
from crossmargin.pricing.inverse import coin_to_usd, inverse_option_premium, usd_to_coin

__all__ = [
    "Greeks",
    "accrued_interest",
    "american_black76",
    "american_black_scholes",
    "american_gbsm",
    "bjerksund_stensland_1993",
    "bjerksund_stensland_2002",
    "black76",
    "black76_greeks",
    "black_scholes",
    "black_scholes_greeks",
    "bond_cash_flows",
    "bond_clean_price",
    "bond_dirty_price",
    "bootstrap_zero_curve",
    "coin_to_usd",
    "discount_factors",
    "dv01",
    "forward",
    "funding_payment",
    "gbsm",
    "gbsm_greeks",
    "inverse_futures_pnl",
    "inverse_futures_pnl_usd",
    "inverse_notional",
    "inverse_option_premium",
    "linear_futures_pnl",
    "modified_duration",
    "usd_to_coin",
    "year_fraction",
    "zero_rates_at",
]
