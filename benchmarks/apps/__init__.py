"""The benchmarked apps: one module per framework, each with the same endpoints.

``FRAMEWORKS`` names every variant: its protocol, the module and factory
that build it, and the bare callable it is compared with. Modules are
imported only when a variant is built, so a missing framework fails alone.
"""

from __future__ import annotations

import importlib
import typing as t
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    """One benchmarked app variant."""

    name: str
    protocol: str  # "wsgi" or "asgi"
    module: str
    factory: str
    #: The floor it is compared with: "bare-wsgi" or "bare-asgi".
    floor: str
    description: str
    #: A factory to call instead of ``module.factory`` (used by the tests).
    builder: t.Callable[[], t.Any] | None = None
    #: In the default selection (every variant when ``--only`` is not
    #: given); False: run only when named (the layer variants).
    default: bool = True

    def build(self) -> t.Any:
        """Import the module and return a fresh app (WSGI or ASGI callable)."""
        if self.builder is not None:
            return self.builder()
        module = importlib.import_module(f"benchmarks.apps.{self.module}")
        return getattr(module, self.factory)()


_ALL = [
    Framework(
        "bare-wsgi",
        "wsgi",
        "bare",
        "build_wsgi",
        "bare-wsgi",
        "hand-written WSGI callable, the minimum work per endpoint",
    ),
    Framework(
        "bare-asgi",
        "asgi",
        "bare",
        "build_asgi",
        "bare-asgi",
        "hand-written ASGI callable, the minimum work per endpoint",
    ),
    Framework("flask", "wsgi", "flask_like", "build_flask", "bare-wsgi", "Flask"),
    Framework("bottle", "wsgi", "bottle_app", "build", "bare-wsgi", "Bottle"),
    Framework(
        "falcon-wsgi", "wsgi", "falcon_app", "build_wsgi", "bare-wsgi", "Falcon (WSGI)"
    ),
    Framework(
        "falcon-asgi", "asgi", "falcon_app", "build_asgi", "bare-asgi", "Falcon (ASGI)"
    ),
    Framework(
        "starlette",
        "asgi",
        "starlette_app",
        "build_async",
        "bare-asgi",
        "Starlette, async endpoints",
    ),
    Framework(
        "starlette-sync",
        "asgi",
        "starlette_app",
        "build_sync",
        "bare-asgi",
        "Starlette, sync endpoints (run in its thread pool)",
    ),
    Framework("quart", "asgi", "quart_app", "build", "bare-asgi", "Quart"),
    Framework(
        "erlen-wsgi", "wsgi", "flask_like", "build_erlen", "bare-wsgi", "erlen (WSGI)"
    ),
    Framework(
        "erlen-asgi-sync",
        "asgi",
        "flask_like",
        "build_erlen",
        "bare-asgi",
        "erlen (ASGI, sync views)",
    ),
    Framework(
        "erlen-asgi-async",
        "asgi",
        "flask_like",
        "build_erlen_async",
        "bare-asgi",
        "erlen (ASGI, async def views)",
    ),
    # What Flask's object model costs, cumulative layers over the bare
    # callable (benchmarks/apps/layers.py); only when named.
    Framework(
        "layer-contexts",
        "wsgi",
        "layers",
        "build_contexts",
        "bare-wsgi",
        "bare-wsgi + erlen's Request, app context and g, request context:"
        " pushed (push_lean), opened (session check, URL match), popped",
        default=False,
    ),
    Framework(
        "layer-contexts-g",
        "wsgi",
        "layers",
        "build_contexts_g",
        "bare-wsgi",
        "layer-contexts + the hooks' value set and read through the g proxy",
        default=False,
    ),
    Framework(
        "layer-response",
        "wsgi",
        "layers",
        "build_response",
        "bare-wsgi",
        "layer-contexts-g + the answer as app.response_class (body, status,"
        " mimetype), the hook header"
        " written to its Headers, sent by erlen.wsgi.respond",
        default=False,
    ),
]

#: Every variant by name, in report order.
FRAMEWORKS: dict[str, Framework] = {fw.name: fw for fw in _ALL}


def select(names: str | None) -> list[Framework]:
    """Return the variants named in a comma-separated list (the default ones when None).

    The bare callable of each selected protocol is always included, since
    every result is reported as a ratio to it.

    :raise SystemExit: on an unknown name, listing the known ones.
    """
    if not names:
        return [fw for fw in _ALL if fw.default]
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in FRAMEWORKS]
    if unknown:
        raise SystemExit(
            f"unknown framework(s) {', '.join(unknown)}; known: {', '.join(FRAMEWORKS)}"
        )
    chosen = set(wanted) | {FRAMEWORKS[n].floor for n in wanted}
    return [fw for fw in _ALL if fw.name in chosen]
