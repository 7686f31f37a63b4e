"""A module whose own import fails."""

from __future__ import annotations

import cliapp_does_not_exist  # noqa: F401
