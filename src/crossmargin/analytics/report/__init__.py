"""The evidence report: one offline HTML page that answers the SEC/CFTC questions.

``evidence`` gathers the numbers (capital freed, backtests, procyclicality, stress and
Cover-2, provenance), ``figures`` draws them with plotly, ``html`` writes the
self-contained page and ``png`` exports the charts for slides.
"""
