"""Exceptions raised by the router while matching and building URLs."""

from __future__ import annotations

import typing as t
from functools import cached_property

from ..exceptions import BadRequest
from ..exceptions import RequestRedirect as RequestRedirect
from ..exceptions import RoutingException as RoutingException

if t.TYPE_CHECKING:  # pragma: no cover
    from .map import MapAdapter
    from .rules import Rule


class ValidationError(ValueError):
    """Raised by a converter's ``to_python`` to say "this rule does not match here".

    The router then keeps looking for another rule that matches the URL.
    """


class RequestAliasRedirect(RoutingException):
    """The matched rule is an alias: redirect to the endpoint's canonical URL.

    :param matched_values: the converted values of the match.
    :param endpoint: the endpoint to build the canonical URL for.
    """

    def __init__(self, matched_values: t.Mapping[str, t.Any], endpoint: t.Any) -> None:
        super().__init__()
        self.matched_values = matched_values
        self.endpoint = endpoint


class BuildError(RoutingException, LookupError):
    """No rule can build a URL for the endpoint with the given values and method.

    ``str()`` of the error names the closest rule and what is missing.

    :param endpoint: the endpoint that was asked for.
    :param values: the values that were passed.
    :param method: the method that was asked for, if any.
    :param adapter: the adapter, used to look for similar rules.
    """

    def __init__(
        self,
        endpoint: t.Any,
        values: t.Mapping[str, t.Any],
        method: str | None,
        adapter: MapAdapter | None = None,
    ) -> None:
        super().__init__(endpoint, values, method)
        self.endpoint = endpoint
        self.values = values
        self.method = method
        self.adapter = adapter

    @cached_property
    def suggested(self) -> Rule | None:
        """The rule that looks most like what was asked for, if any."""
        return self.closest_rule(self.adapter)

    def closest_rule(self, adapter: MapAdapter | None) -> Rule | None:
        """Return the rule of *adapter*'s map closest to the failed build."""
        if adapter is None:
            return None
        rules = list(adapter.map.iter_rules())
        if not rules:
            return None
        wanted = str(self.endpoint)
        value_names = set(self.values or ())
        import difflib  # PERF: imported on first use (import time)

        def score(rule: Rule) -> float:
            # Endpoint similarity dominates; matching arguments and method only
            # break ties, so an exact endpoint always wins.
            similarity = difflib.SequenceMatcher(None, str(rule.endpoint), wanted)
            return (
                0.98 * similarity.ratio()
                + 0.01 * value_names.issubset(rule.arguments)
                + 0.01 * bool(rule.methods and self.method in rule.methods)
            )

        return max(rules, key=score)

    def __str__(self) -> str:
        message = [f"Could not build url for endpoint {self.endpoint!r}"]
        if self.method:
            message.append(f" ({self.method!r})")
        if self.values:
            message.append(f" with values {sorted(self.values)!r}")
        message.append(".")
        suggested = self.suggested
        if suggested is not None:
            if self.endpoint == suggested.endpoint:
                if (
                    self.method
                    and suggested.methods is not None
                    and self.method not in suggested.methods
                ):
                    message.append(
                        f" Did you mean to use methods {sorted(suggested.methods)!r}?"
                    )
                missing = suggested.arguments.union(suggested.defaults or ()) - set(
                    self.values
                )
                if missing:
                    message.append(
                        f" Did you forget to specify values {sorted(missing)!r}?"
                    )
            else:
                message.append(f" Did you mean {suggested.endpoint!r} instead?")
        return "".join(message)


class WebsocketMismatch(BadRequest):
    """*400*: the URL matched, but only for the other kind of request.

    Raised when the only matching rule is a WebSocket rule and the request is
    plain HTTP, or the other way round.
    """
