"""扶贫数据: the officials' pages on Airflow's api-server.

Mounts `fupin.dashboard.app` at /fupin and adds 扶贫数据 to Airflow's navigation (shown inside the
UI). The app authenticates every request itself: Airflow does not protect plugin routes.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


def _app():  # built when the api-server loads plugins, not when a DAG is parsed
    from fupin.dashboard.app import create_app

    return create_app()


class FupinDashboard(AirflowPlugin):
    name = "fupin_dashboard"
    fastapi_apps = [{"app": _app(), "url_prefix": "/fupin", "name": "扶贫数据"}]
    external_views = [{"name": "扶贫数据", "href": "/fupin/", "url_route": "fupin", "destination": "nav",
                       "category": None, "nav_top_level": True}]
