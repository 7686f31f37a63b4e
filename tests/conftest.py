from __future__ import annotations

import os

from hypothesis import HealthCheck
from hypothesis import settings

# The CI machine is shared and noisy: no per-example deadline, and a bounded
# number of examples so the whole suite stays well inside CI's time limit.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
