"""Helpers for comparing erlen.routing with werkzeug.routing on the same input."""

from __future__ import annotations

import typing as t

import werkzeug.exceptions as wz_exc
import werkzeug.routing as wz

import erlen.exceptions as er_exc
import erlen.routing as er

# A rule is described once, as (rule string, keyword arguments), and built
# with each library's Rule class.
RuleSpec = tuple[str, dict[str, t.Any]]


def make_maps(
    specs: t.Sequence[RuleSpec], **map_kwargs: t.Any
) -> tuple[er.Map, wz.Map]:
    """Return the same map built with erlen and with Werkzeug."""
    ours = er.Map([er.Rule(s, **dict(kw)) for s, kw in specs], **map_kwargs)
    theirs = wz.Map([wz.Rule(s, **dict(kw)) for s, kw in specs], **map_kwargs)
    return ours, theirs


def outcome(adapter: t.Any, path: str, method: str = "GET", **kw: t.Any) -> t.Any:
    """Return a comparable summary of ``adapter.match(path, method)``."""
    try:
        endpoint, args = adapter.match(path, method, **kw)
    except (er_exc.HTTPException, wz_exc.HTTPException) as e:
        return (
            "error",
            type(e).__name__,
            e.code,
            getattr(e, "new_url", None),
            sorted(getattr(e, "valid_methods", None) or ()),
        )
    return ("ok", endpoint, args)


def build_outcome(adapter: t.Any, endpoint: str, values: t.Any, **kw: t.Any) -> t.Any:
    """Return a comparable summary of ``adapter.build(endpoint, values)``."""
    try:
        return ("ok", adapter.build(endpoint, values, **kw))
    except (er.BuildError, wz.BuildError) as e:
        return ("BuildError", str(e))
    except (ValueError, TypeError) as e:
        return (type(e).__name__,)
