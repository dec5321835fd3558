"""crossmargin: unified cross-margining engine.

Computes what margin each regime demands today (strategy-based, portfolio margin,
SPAN, crypto exchange margin) and what one unified cross-margin model would demand,
for one account or millions, on real market history.
"""

from crossmargin.core.errors import CrossmarginError, InputError

__all__ = ["CrossmarginError", "InputError", "__version__"]
__version__ = "0.1.0"
