"""JSON helpers that follow the current app's JSON provider."""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _cv_app
from .provider import _default

if t.TYPE_CHECKING:  # pragma: no cover
    from ..wrappers import Response


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` with the current app's provider, or with stdlib json."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize ``obj`` to a text file (see :func:`dumps`)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.json.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Deserialize JSON with the current app's provider, or stdlib json."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Deserialize JSON from a file (see :func:`loads`)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Return a JSON response: args as a list (one arg as itself), kwargs as a dict."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "jsonify() needs an application context; call it from a view or"
            " inside 'with app.app_context():'."
        )
    return ctx.app.json.response(*args, **kwargs)  # type: ignore[no-any-return]
