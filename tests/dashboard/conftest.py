"""Dashboard tests reuse the API fixtures of tests/api (a real anvil, onboarded parties, API keys)
and add their own from `tests.dashboard.fixtures`: the app over real HTTP, a scene, a browser."""

from tests.api.conftest import (  # noqa: F401  (fixtures re-exported for this folder)
    api,
    api_settings,
    api_world,
    issue_obligation,
    operator_headers,
    parties,
)
from tests.dashboard.fixtures import (  # noqa: F401
    browser_context,
    chinese_page,
    live_server,
    page,
    scene,
    screenshots,
)
