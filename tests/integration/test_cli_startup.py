"""The command line starts without importing what only some commands need.

``crossmargin --help`` or ``crossmargin margin`` on one account should not pay for the
evidence layer (scipy.stats, arch, plotly), the arrangements or the compiled kernels: each
command imports them when it runs. Checked by what a fresh interpreter has imported,
never by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Modules only some commands need; importing the CLI must not import them.
DEFERRED = ("scipy.stats", "arch", "plotly", "numba", "crossmargin.analytics",
            "crossmargin.arrangements.compare", "crossmargin.kernels",
            "crossmargin.methods.fhs")


def test_cli_import_defers_heavy_modules() -> None:
    code = ("import json, sys; import crossmargin.interfaces.cli.app; "
            f"print(json.dumps([m for m in {list(DEFERRED)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert json.loads(out) == []
