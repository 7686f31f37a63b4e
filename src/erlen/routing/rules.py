"""URL rules: parse a rule string into matchable parts and build URLs from values."""

from __future__ import annotations

import re
import typing as t

from ..urls import encode_query as encode_query
from .converters import quote_segment
from .exceptions import ValidationError

if t.TYPE_CHECKING:  # pragma: no cover
    from .converters import BaseConverter
    from .map import Map

# One token of a rule string: a slash, static text, or <converter(args):name>.
_TOKEN_RE = re.compile(
    r"""
    (?P<slash>/)
    | (?P<static>[^</]+)
    | <
        (?:
            (?P<converter>[A-Za-z_][A-Za-z0-9_]*)
            (?:\((?P<args>.*?)\))?
            :
        )?
        (?P<variable>[A-Za-z_][A-Za-z0-9_]*)
      >
    """,
    re.VERBOSE,
)

# One converter argument followed by its comma: `name=value,` or `value,`.
# NOTE: the value grammar (bare words, numbers, quoted strings without escapes)
# is the one Werkzeug accepts, so existing rule strings keep their meaning.
_ARG_RE = re.compile(
    r"""
    \s*
    (?:(?P<name>\w+)\s*=\s*)?
    (?P<value>
        \d+.\d+
        | \d+.
        | \d+
        | [\w.]+
        | [urUR]?(?P<quoted>"[^"]*?"|'[^']*')
    )
    \s*,
    """,
    re.VERBOSE,
)

#: ``<name>`` placeholders in a ``redirect_to`` string.
_PLACEHOLDER_RE = re.compile(r"<([^>]+)>")

_CONSTANTS: dict[str, t.Any] = {"None": None, "True": True, "False": False}


def _literal(text: str) -> t.Any:
    """Return the Python value of one converter argument's source text."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text[:1] == text[-1:] and text[0] in "\"'":
        text = text[1:-1]
    return text


def _argument_error(argstr: str, start: int, end: int) -> ValueError:
    return ValueError(
        f"Cannot parse converter argument {argstr[start:end]!r} in"
        f" {argstr[:-1]!r}: expected comma-separated numbers, words or quoted"
        " strings, optionally as name=value."
    )


def parse_converter_args(argstr: str) -> tuple[tuple[t.Any, ...], dict[str, t.Any]]:
    """Return the positional and keyword arguments written in ``<conv(argstr):x>``.

    :param argstr: the text between the parentheses.
    :raise ValueError: if part of the text is not an argument.
    """
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    if not argstr.strip():
        return (), kwargs
    argstr += ","
    position = 0
    for item in _ARG_RE.finditer(argstr):
        if item.start() != position:
            raise _argument_error(argstr, position, item.start())
        value = _literal(item.group("quoted") or item.group("value"))
        name = item.group("name")
        if name:
            kwargs[name] = value
        else:
            args.append(value)
        position = item.end()
    if position != len(argstr):
        # NOTE: Werkzeug silently drops trailing text ("<int(#):x>" is a plain
        # int there); a typo in a rule should fail loudly at setup instead.
        raise _argument_error(argstr, position, len(argstr))
    return tuple(args), kwargs


class Weight(t.NamedTuple):
    """Sort key of a rule part; lower sorts (and so matches) first."""

    #: Minus the number of static pieces: more static text wins.
    static_count: int
    #: ``(index, -len)`` for each static piece: longer static text wins.
    static_weights: list[tuple[int, int]]
    #: Minus the number of converters.
    argument_count: int
    #: Each converter's weight, in order.
    argument_weights: list[int]


class RulePart:
    """One piece of a rule between slashes, as the matcher sees it.

    A static part's :attr:`content` is the literal segment. A dynamic part's is
    a regular expression whose groups ``__erlen_N`` are the converter values; a
    *final* part swallows the rest of the path (a converter matching ``/``).
    """

    __slots__ = ("content", "final", "static", "suffixed", "weight")

    def __init__(
        self, content: str, final: bool, static: bool, suffixed: bool, weight: Weight
    ) -> None:
        self.content = content
        self.final = final
        self.static = static
        self.suffixed = suffixed
        self.weight = weight

    def _key(self) -> tuple[str, bool, bool, bool, Weight]:
        return (self.content, self.final, self.static, self.suffixed, self.weight)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RulePart) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RulePart{self._key()!r}"


class RuleFactory:
    """Something that produces rules; subclasses override :meth:`get_rules`."""

    def get_rules(self, map: Map) -> t.Iterable[Rule]:
        """Return the rules this factory provides for *map*."""
        raise NotImplementedError()


class Subdomain(RuleFactory):
    """Put every rule of *rules* on the subdomain *subdomain*.

    :param subdomain: a subdomain rule string, which may contain variables.
    :param rules: rules or rule factories.
    """

    def __init__(self, subdomain: str, rules: t.Iterable[RuleFactory]) -> None:
        self.subdomain = subdomain
        self.rules = rules

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """Yield unbound copies of the rules with the subdomain set."""
        for factory in self.rules:
            for rule in factory.get_rules(map):
                rule = rule.empty()
                rule.subdomain = self.subdomain
                yield rule


class Submount(RuleFactory):
    """Prefix every rule of *rules* with the path *path*.

    :param path: the path prefix; a trailing slash is ignored.
    :param rules: rules or rule factories.
    """

    def __init__(self, path: str, rules: t.Iterable[RuleFactory]) -> None:
        self.path = path.rstrip("/")
        self.rules = rules

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """Yield unbound copies of the rules with the prefix added."""
        for factory in self.rules:
            for rule in factory.get_rules(map):
                rule = rule.empty()
                rule.rule = self.path + rule.rule
                yield rule


class EndpointPrefix(RuleFactory):
    """Prefix the (string) endpoint of every rule of *rules* with *prefix*.

    :param prefix: the text put in front of each endpoint.
    :param rules: rules or rule factories.
    """

    def __init__(self, prefix: str, rules: t.Iterable[RuleFactory]) -> None:
        self.prefix = prefix
        self.rules = rules

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """Yield unbound copies of the rules with the endpoint prefixed."""
        for factory in self.rules:
            for rule in factory.get_rules(map):
                rule = rule.empty()
                rule.endpoint = self.prefix + rule.endpoint
                yield rule


class RuleTemplate:
    """Rules with ``$name`` placeholders, filled in by calling the template.

    :param rules: the template rules.
    """

    def __init__(self, rules: t.Iterable[Rule]) -> None:
        self.rules = list(rules)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> RuleTemplateFactory:
        """Return a factory producing the rules with the placeholders filled in."""
        return RuleTemplateFactory(self.rules, dict(*args, **kwargs))


class RuleTemplateFactory(RuleFactory):
    """The rules of a :class:`RuleTemplate` with a context to substitute."""

    def __init__(
        self, rules: t.Iterable[RuleFactory], context: dict[str, t.Any]
    ) -> None:
        self.rules = rules
        self.context = context

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """Yield new rules with the ``$name`` placeholders filled in."""
        # PERF: imported on first use (import time); string compiles a regex.
        from string import Template

        for factory in self.rules:
            for rule in factory.get_rules(map):
                defaults = subdomain = None
                if rule.defaults:
                    defaults = {
                        key: Template(value).substitute(self.context)
                        if isinstance(value, str)
                        else value
                        for key, value in rule.defaults.items()
                    }
                if rule.subdomain is not None:
                    subdomain = Template(rule.subdomain).substitute(self.context)
                endpoint = rule.endpoint
                if isinstance(endpoint, str):
                    endpoint = Template(endpoint).substitute(self.context)
                yield Rule(
                    Template(rule.rule).substitute(self.context),
                    defaults,
                    subdomain,
                    rule.methods,
                    rule.build_only,
                    endpoint,
                    rule.strict_slashes,
                )


class Rule(RuleFactory):
    """One URL pattern and the endpoint it leads to.

    :param string: the rule, a path starting with ``/`` with placeholders
        ``<converter(arguments):name>`` (converter and arguments optional).
    :param defaults: values for the view that the URL does not carry; also
        used to pick among several rules of one endpoint when building.
    :param subdomain: the subdomain rule (may contain variables); defaults to
        the map's ``default_subdomain``.
    :param methods: the HTTP methods this rule accepts (``None``: all). ``HEAD``
        is added when ``GET`` is present.
    :param build_only: the rule is used for building URLs, never matched.
    :param endpoint: what a match returns; usually a string.
    :param strict_slashes: override the map's setting for this rule.
    :param merge_slashes: override the map's setting for this rule.
    :param redirect_to: a rule-syntax string or a callable ``f(adapter, **values)``;
        matching raises :exc:`RequestRedirect` to it.
    :param alias: this rule is an alias; matching redirects to the canonical URL.
    :param host: the host rule, used when the map has ``host_matching``.
    :param websocket: the rule only matches WebSocket requests.

    Subclasses may add keyword arguments; override :meth:`get_empty_kwargs`
    so that :meth:`empty` copies them.
    """

    def __init__(
        self,
        string: str,
        defaults: t.Mapping[str, t.Any] | None = None,
        subdomain: str | None = None,
        methods: t.Iterable[str] | None = None,
        build_only: bool = False,
        endpoint: t.Any | None = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | t.Callable[..., str] | None = None,
        alias: bool = False,
        host: str | None = None,
        websocket: bool = False,
    ) -> None:
        if not isinstance(string, str) or not string.startswith("/"):
            raise ValueError(
                f"URL rule {string!r} must be a string starting with a slash,"
                f" got a {type(string).__name__}. Write it as '/{string}'."
            )
        #: The rule string as given.
        self.rule = string
        #: True if the rule does not end with a slash.
        self.is_leaf = not string.endswith("/")
        #: True if the rule ends with a slash.
        self.is_branch = string.endswith("/")
        #: The map this rule is bound to, once added.
        self.map: Map = None  # type: ignore[assignment]
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.subdomain = subdomain
        self.host = host
        self.defaults = defaults
        self.build_only = build_only
        self.alias = alias
        self.websocket = websocket

        method_set: set[str] | None = None
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError(
                    f"'methods' should be a list of strings, got the string"
                    f" {methods!r}. Write methods=[{methods!r}]."
                )
            method_set = {m.upper() for m in methods}
            if "GET" in method_set:
                method_set.add("HEAD")
            if websocket and method_set - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    "WebSocket rules can only use 'GET', 'HEAD', and 'OPTIONS'"
                    f" methods, got {sorted(method_set)!r}."
                )
        #: The accepted methods (upper case), or None for any method.
        self.methods = method_set
        #: The endpoint a match returns.
        self.endpoint: t.Any = endpoint
        self.redirect_to = redirect_to
        #: The names of the rule's variables and defaults.
        self.arguments: set[str] = set(map(str, defaults)) if defaults else set()

        self._converters: dict[str, BaseConverter] = {}
        self._trace: list[tuple[bool, str]] = []
        self._parts: list[RulePart] = []
        self._domain_ops: list[tuple[bool, str]] = []
        self._path_ops: list[tuple[bool, str]] = []
        # Set by Map.update(): no alias, redirect_to or defaults redirect.
        self._plain = False

    def empty(self) -> Rule:
        """Return an unbound copy of this rule (for reuse in another map)."""
        return type(self)(self.rule, **self.get_empty_kwargs())

    def get_empty_kwargs(self) -> t.Mapping[str, t.Any]:
        """Return the keyword arguments :meth:`empty` passes to the copy."""
        return {
            "defaults": dict(self.defaults) if self.defaults else None,
            "subdomain": self.subdomain,
            "methods": self.methods,
            "build_only": self.build_only,
            "endpoint": self.endpoint,
            "strict_slashes": self.strict_slashes,
            "redirect_to": self.redirect_to,
            "alias": self.alias,
            "host": self.host,
        }

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """Yield this rule itself."""
        yield self

    def refresh(self) -> None:
        """Rebind the rule after it was changed in place."""
        self.bind(self.map, rebind=True)

    def bind(self, map: Map, rebind: bool = False) -> None:
        """Bind the rule to *map*, fill in the map's defaults and compile it.

        :raise RuntimeError: if already bound and *rebind* is false.
        """
        if self.map is not None and not rebind:
            raise RuntimeError(
                f"URL rule {self!r} is already bound to map {self.map!r}. Add"
                " rule.empty() to the other map instead."
            )
        self.map = map
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        self.compile()

    def get_converter(
        self,
        variable_name: str,
        converter_name: str,
        args: tuple[t.Any, ...],
        kwargs: t.Mapping[str, t.Any],
    ) -> BaseConverter:
        """Return a new converter *converter_name* for the variable *variable_name*.

        :raise LookupError: if the map has no such converter.
        """
        if converter_name not in self.map.converters:
            raise LookupError(
                f"The converter {converter_name!r} used for <{variable_name}> in"
                f" rule {self.rule!r} does not exist. Known converters:"
                f" {sorted(self.map.converters)}; register others with"
                " map.converters[name] = cls."
            )
        return self.map.converters[converter_name](self.map, *args, **kwargs)

    def _parse(self, rule: str, ops: list[tuple[bool, str]]) -> t.Iterator[RulePart]:
        """Yield the parts of *rule* (a host, subdomain or path rule)."""
        content = ""
        static = True
        final = False
        static_weights: list[tuple[int, int]] = []
        argument_weights: list[int] = []
        group = 0
        pos = 0
        end = len(rule)

        def weight() -> Weight:
            return Weight(
                -len(static_weights),
                static_weights,
                -len(argument_weights),
                argument_weights,
            )

        while pos < end:
            token = _TOKEN_RE.match(rule, pos)
            if token is None:
                raise ValueError(
                    f"Malformed URL rule {rule!r} at position {pos}: expected"
                    " static text, '/' or <converter(args):name> with a"
                    " Python-identifier name."
                )
            pos = token.end()
            text = token.group("static")
            if text is not None:
                static_weights.append((len(static_weights), -len(text)))
                self._trace.append((False, text))
                ops.append((False, text))
                content += text if static else re.escape(text)
                continue
            name = token.group("variable")
            if name is not None:
                if name in self._converters:
                    raise ValueError(
                        f"URL rule {self.rule!r} uses the variable name {name!r}"
                        " more than once; give each variable its own name."
                    )
                if static:
                    content = re.escape(content)
                    static = False
                c_args, c_kwargs = parse_converter_args(token.group("args") or "")
                converter = self.get_converter(
                    name, token.group("converter") or "default", c_args, c_kwargs
                )
                self._converters[name] = converter
                self.arguments.add(name)
                if not converter.part_isolating:
                    final = True
                content += f"(?P<__erlen_{group}>{converter.regex})"
                group += 1
                argument_weights.append(converter.weight)
                self._trace.append((True, name))
                ops.append((True, name))
                continue
            # A slash.
            self._trace.append((False, "/"))
            ops.append((False, "/"))
            if final:
                # A converter matching "/" swallows the rest of the rule.
                content += "/"
                continue
            yield RulePart(content, False, static, False, weight())
            content = ""
            static = True
            static_weights = []
            argument_weights = []
            group = 0

        suffixed = False
        if final and content.endswith("/"):
            # The rule ends with a slash after a path-like converter: match the
            # slash optionally so that a missing one can redirect.
            suffixed = True
            content = content[:-1] + "(?<!/)(/?)"
        last_weight = weight()
        yield RulePart(content, final, static, suffixed, last_weight)
        if suffixed:
            yield RulePart("", False, True, False, last_weight)

    def compile(self) -> None:
        """Parse the rule against its map's converters (called by :meth:`bind`).

        :raise RuntimeError: if the rule is not bound to a map.
        """
        if self.map is None:
            raise RuntimeError(
                f"Rule {self.rule!r} is not bound to a map; add it to a Map first."
            )
        if self.map.host_matching:
            domain_rule = self.host or ""
        else:
            domain_rule = self.subdomain or ""
        self._parts = []
        self._trace = []
        self._converters = {}
        self._domain_ops = []
        self._path_ops = []
        if domain_rule == "":
            self._parts.append(RulePart("", False, True, False, Weight(0, [], 0, [])))
        else:
            self._parts.extend(self._parse(domain_rule, self._domain_ops))
        self._trace.append((False, "|"))
        rule = self.rule
        if self.merge_slashes:
            rule = re.sub("/{2,}", "/", rule)
        self._parts.extend(self._parse(rule, self._path_ops))
        self._compile_builder()

    def _compile_builder(self) -> None:
        """Precompute the constant pieces of the URL builder."""
        defaults = self.defaults or {}

        def resolve(ops: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
            out: list[tuple[bool, str]] = []
            for is_dynamic, data in ops:
                if is_dynamic and data in defaults:
                    # A default for a variable of the rule is a constant.
                    out.append((False, self._converters[data].to_url(defaults[data])))
                elif is_dynamic:
                    out.append((True, data))
                else:
                    out.append((False, quote_segment(data)))
            # Fold neighbouring constants so building joins fewer strings.
            folded: list[tuple[bool, str]] = []
            for op in out:
                if folded and not op[0] and not folded[-1][0]:
                    folded[-1] = (False, folded[-1][1] + op[1])
                else:
                    folded.append(op)
            return folded

        self._domain_ops = resolve(self._domain_ops)
        self._path_ops = resolve(self._path_ops)

    def _build_part(
        self, ops: list[tuple[bool, str]], values: t.Mapping[str, t.Any]
    ) -> str:
        """Return one built piece (domain or path) from *values*."""
        pieces = []
        for is_dynamic, data in ops:
            if is_dynamic:
                try:
                    value = values[data]
                except KeyError:
                    raise TypeError(
                        f"Cannot build rule {self.rule!r}: the value for"
                        f" {data!r} is missing. Pass {data}=... ."
                    ) from None
                pieces.append(self._converters[data].to_url(value))
            else:
                pieces.append(data)
        return "".join(pieces)

    def _encode_query_vars(self, query_vars: t.Mapping[str, t.Any]) -> str:
        """Return *query_vars* as a query string, sorted if the map says so."""
        return encode_query(
            query_vars, sort=self.map.sort_parameters, key=self.map.sort_key
        )

    def build(
        self, values: t.Mapping[str, t.Any], append_unknown: bool = True
    ) -> tuple[str, str] | None:
        """Return ``(domain_part, path)`` built from *values*, or None.

        None means a converter rejected a value with ValidationError.

        :param values: the values for the rule's variables, plus extras.
        :param append_unknown: add values that are not arguments as a query.
        """
        try:
            domain = self._build_part(self._domain_ops, values)
            path = self._build_part(self._path_ops, values)
        except ValidationError:
            return None
        if append_unknown:
            arguments = self.arguments
            extra = {k: v for k, v in values.items() if k not in arguments}
            if extra:
                query = self._encode_query_vars(extra)
                if query:
                    path = f"{path}?{query}"
        return domain, path

    def provides_defaults_for(self, rule: Rule) -> bool:
        """Return True if this rule is the defaults-carrying twin of *rule*."""
        return bool(
            not self.build_only
            and self.defaults
            and self.endpoint == rule.endpoint
            and self != rule
            and self.arguments == rule.arguments
        )

    def suitable_for(
        self, values: t.Mapping[str, t.Any], method: str | None = None
    ) -> bool:
        """Return True if *values* (and *method*) are enough to build this rule."""
        if method is not None and self.methods is not None:
            if method not in self.methods:
                return False
        defaults = self.defaults or {}
        for key in self.arguments:
            if key not in defaults and key not in values:
                return False
        for key, value in defaults.items():
            if key in values and value != values[key]:
                return False
        return True

    def build_compare_key(self) -> tuple[int, int, int]:
        """Return the sort key that orders an endpoint's rules for building."""
        return (1 if self.alias else 0, -len(self.arguments), -len(self.defaults or ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._trace == other._trace

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        if getattr(self, "map", None) is None:
            return f"<{type(self).__name__} (unbound)>"
        text = "".join(
            f"<{data}>" if is_dynamic else data for is_dynamic, data in self._trace
        ).lstrip("|")
        methods = f" ({', '.join(self.methods)})" if self.methods is not None else ""
        return f"<{type(self).__name__} {text!r}{methods} -> {self.endpoint}>"
