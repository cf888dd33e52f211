"""Parts of the browser page (:mod:`simulation.app`) that need no Solara.

Display names and colours (:mod:`~simulation.page.display`), the levers and the checks of
what a client sends (:mod:`~simulation.page.levers`), firms' marks copied from the agents
(:mod:`~simulation.page.firms`), a session's model and the frames it publishes
(:mod:`~simulation.page.session`), the ECharts options (:mod:`~simulation.page.charts`) and
the licence desk table (:mod:`~simulation.page.desk`).
"""
