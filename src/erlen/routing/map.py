"""The URL map (all rules of an app) and the adapter that matches and builds URLs."""

from __future__ import annotations

import itertools
import re
import threading
import typing as t
import warnings
from types import MappingProxyType
from urllib.parse import urljoin
from urllib.parse import urlunsplit

from .._cache import cache_put
from ..datastructures import MultiDict
from ..exceptions import BadHost
from ..exceptions import HTTPException
from ..exceptions import MethodNotAllowed
from ..exceptions import NotFound
from .converters import BaseConverter
from .converters import DEFAULT_CONVERTERS
from .converters import FloatConverter
from .converters import NumberConverter
from .converters import quote_segment
from .converters import UUIDConverter
from .exceptions import BuildError
from .exceptions import RequestRedirect
from .exceptions import WebsocketMismatch
from .matcher import _Info
from .matcher import Matcher
from .matcher import SlashRequired
from .rules import _PLACEHOLDER_RE
from .rules import encode_query
from .rules import Rule

if t.TYPE_CHECKING:  # pragma: no cover
    from .rules import RuleFactory

_QueryArgs = t.Mapping[str, t.Any] | str | None
# Map._seen: (PATH_INFO, REQUEST_METHOD, HTTP_HOST, wsgi.url_scheme, domain)
# to a static rule and its defaults, or to None and what a failed search saw.
_SeenKey = tuple[str | None, str, str, str, str]
_SeenValue = tuple["Rule", "t.Mapping[str, t.Any] | None"] | tuple[None, "_Info"]

# The converters' to_python functions that depend on nothing but the value.
_PURE_TO_PYTHON = frozenset(
    (
        BaseConverter.to_python,
        NumberConverter.to_python,
        FloatConverter.to_python,
        UUIDConverter.to_python,
    )
)

_new_object = object.__new__
# The bound on Map._seen (static matches and 404/405s remembered per map): the
# keys hold client strings (path, host), so a flood of new ones empties it.
_SEEN_SIZE = 1024
# APPSEC: a request is remembered only if its Host and path (with repeated
# leading slashes, the path a static rule matches can be longer than the
# rule's) are this short together: the cache stays below a few MB.
_SEEN_KEY_MAX = 1024
# PERF: methods that need no upper() call (a set lookup is cheaper).
_UPPER_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)

# APPSEC: the characters a Host header may carry (name or IPv4, or [IPv6]),
# with an optional port; anything else is treated as "no host".
_HOST_RE = re.compile(
    r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([1-9][0-9]{0,4}))?",
    re.ASCII | re.IGNORECASE,
)


def _host_from_server(environ: t.Mapping[str, t.Any]) -> str:
    """Return ``host[:port]`` from ``SERVER_NAME``/``SERVER_PORT``, or "" if unusable.

    Used when the request has no ``Host`` header; the scheme's default port
    is dropped.
    """
    name = environ.get("SERVER_NAME")
    if name is None:
        return ""
    try:
        port = int(environ.get("SERVER_PORT"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        # A Unix socket has no port, and no useful host either.
        return ""
    if ":" in name and name[0] != "[":
        name = f"[{name}]"
    return _clean_host(environ["wsgi.url_scheme"], f"{name}:{port}")


def _clean_host(scheme: str, host: str) -> str:
    """Return *host* without the scheme's default port, or "" if it is not valid."""
    if scheme in {"http", "ws"}:
        host = host.removesuffix(":80")
    elif scheme in {"https", "wss"}:
        host = host.removesuffix(":443")
    m = _HOST_RE.fullmatch(host)
    if m is None or (m.group(2) and int(m.group(2)) > 65535):
        return ""
    return host


# PERF: the same few Host headers arrive again and again, so their validated,
# lower-cased form (and the IDNA form of a server name) is computed once.
# Keyed by the raw strings; bounded, and simply emptied when full, so a client
# sending many different hosts costs memory of at most 256 entries each.
_host_cache: dict[tuple[str, str], str] = {}
_HOST_CACHE_MAX = 256
_idna_cache: dict[str, str] = {}
_IDNA_CACHE_MAX = 256
# PERF: the Host headers Map._match_environ found acceptable, each with the
# URL scheme it was checked for (the scheme decides which port is dropped).
_hosts_checked: dict[str, str] = {}
_HOSTS_CHECKED_MAX = 256


def _cache_host(scheme: str, host: str) -> str:
    """Return ``_clean_host(scheme, host).lower()`` and remember it in the cache."""
    return cache_put(
        _host_cache, _HOST_CACHE_MAX, (scheme, host), _clean_host(scheme, host).lower()
    )


def _idna_server_name(server_name: str) -> str:
    """Return *server_name* lower-cased with its host part IDNA-encoded.

    :raise BadHost: if the host cannot be IDNA-encoded.
    """
    value = _idna_cache.get(server_name)
    if value is None:
        # The port is not part of IDNA and could push a label over 63 octets.
        host, sep, port = server_name.lower().partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as e:
            raise BadHost() from e
        value = cache_put(
            _idna_cache, _IDNA_CACHE_MAX, server_name, f"{host}{sep}{port}"
        )
    return value


def _connection_upgrade(connection: str) -> bool:
    """Return True if a ``Connection`` header value lists the ``upgrade`` option."""
    return any(v.strip(" \t") == "upgrade" for v in connection.lower().split(","))


def _refuse_subdomain(subdomain: str | None) -> None:
    """Raise if a subdomain is given although the map matches whole hosts."""
    if subdomain is not None:
        raise RuntimeError(
            f"Host matching is enabled, so a subdomain ({subdomain!r})"
            " cannot be given; pass the full host as server_name."
        )


def _wsgi_str(value: str) -> str:
    """Return a WSGI "bytes as latin-1" string decoded as UTF-8."""
    try:
        return value.encode("latin1").decode(errors="replace")
    except UnicodeEncodeError:
        # Already real text (not WSGI-encoded); keep it rather than crash.
        return value


def _remember(
    seen: dict[_SeenKey, _SeenValue], key: _SeenKey, value: _SeenValue
) -> None:
    """Store a :meth:`Map._match_environ` answer in *seen* unless its key is long."""
    # APPSEC: long strings (a path with many leading slashes also matches a
    # static rule) would let the cache hold too much memory.
    if len(key[0] or "") + len(key[2]) <= _SEEN_KEY_MAX:
        cache_put(seen, _SEEN_SIZE, key, value)


def _refuse_host(scheme: str, host: str) -> BadHost | None:
    """Return the error binding would raise for a Host header, or None if it is fine.

    A fine one is remembered in ``_hosts_checked``.
    """
    name = _host_cache.get((scheme, host)) or _cache_host(scheme, host)
    if _idna_cache.get(name) is None:
        try:
            _idna_server_name(name)
        except BadHost as e:
            return e
    cache_put(_hosts_checked, _HOSTS_CHECKED_MAX, host, scheme)
    return None


def _normalized_path(path_info: str) -> str:
    """Return a WSGI ``PATH_INFO`` decoded, with one leading slash, for the matcher."""
    if not path_info.isascii():
        path_info = _wsgi_str(path_info)
    if path_info and (path_info[0] != "/" or path_info[1:2] == "/"):
        return f"/{path_info.lstrip('/')}"
    return path_info


def _normalized(path_info: str | None, method: str) -> tuple[str, str]:
    """Return the path and method as the matcher takes them."""
    if method not in _UPPER_METHODS:
        method = method.upper()
    if not path_info:
        return "", method
    if path_info[0] == "/" and path_info[1:2] != "/":
        return path_info, method
    return f"/{path_info.lstrip('/')}", method


def _no_match(info: _Info) -> HTTPException:
    """Return the HTTP error for a search that found no rule."""
    if info.have_match_for:
        return MethodNotAllowed(valid_methods=list(info.have_match_for))
    if info.websocket_mismatch:
        return WebsocketMismatch()
    return NotFound()


class Map:
    """All URL rules of an application, plus the settings they share.

    :param rules: rules or rule factories to add.
    :param default_subdomain: the subdomain of rules that set none.
    :param strict_slashes: redirect ``/a`` to ``/a/`` when the rule ends with a slash.
    :param merge_slashes: redirect ``/a//b`` to ``/a/b`` and build with single slashes.
    :param redirect_defaults: redirect to the rule that carries an endpoint's
        defaults when the URL spells them out.
    :param converters: extra converters (or replacements), by name.
    :param sort_parameters: sort the query string of built URLs.
    :param sort_key: the sort key for those parameters.
    :param host_matching: match the full host (``Rule(host=...)``) instead of
        the subdomain.
    """

    #: The converters every map starts with.
    default_converters: t.Mapping[str, type[BaseConverter]] = MappingProxyType(
        dict(DEFAULT_CONVERTERS)
    )
    #: The lock type guarding :meth:`update`.
    lock_class = threading.Lock

    def __init__(
        self,
        rules: t.Iterable[RuleFactory] | None = None,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: t.Mapping[str, type[BaseConverter]] | None = None,
        sort_parameters: bool = False,
        sort_key: t.Callable[[t.Any], t.Any] | None = None,
        host_matching: bool = False,
    ) -> None:
        self._matcher = Matcher(merge_slashes)
        #: Static matches and failed searches by ``(PATH_INFO, REQUEST_METHOD,
        #: HTTP_HOST, wsgi.url_scheme, domain)``, see :meth:`_match_environ`
        #: and :meth:`_environ_miss`; replaced
        #: (not cleared) on change, so a match racing a change stores its
        #: answer in the old one.
        self._seen: dict[_SeenKey, _SeenValue] = {}
        #: Whether every converter's to_python is one of erlen's own (whose
        #: answers depend only on the value), see _environ_miss.
        self._pure = False
        self._rules_by_endpoint: dict[t.Any, list[Rule]] = {}
        self._remap = True
        self._remap_lock = self.lock_class()
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.redirect_defaults = redirect_defaults
        self.host_matching = host_matching
        #: Converters by name; add custom ones with ``map.converters[name] = cls``.
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        self.sort_parameters = sort_parameters
        self.sort_key = sort_key
        for factory in rules or ():
            self.add(factory)

    @property
    def merge_slashes(self) -> bool:
        """Whether repeated slashes redirect to (and build as) single ones."""
        return self._matcher.merge_slashes

    @merge_slashes.setter
    def merge_slashes(self, value: bool) -> None:
        self._matcher.merge_slashes = value
        self._seen = {}

    @property
    def _matcher_source(self) -> str | None:
        """The Python source of the compiled matcher (None before the first match)."""
        return self._matcher.source

    def is_endpoint_expecting(self, endpoint: t.Any, *arguments: str) -> bool:
        """Return True if a rule of *endpoint* takes all of *arguments*.

        :raise KeyError: if no rule has that endpoint.
        """
        self.update()
        wanted = set(arguments)
        return any(
            wanted.issubset(r.arguments) for r in self._rules_by_endpoint[endpoint]
        )

    @property
    def _rules(self) -> list[Rule]:
        return [rule for rules in self._rules_by_endpoint.values() for rule in rules]

    def iter_rules(self, endpoint: t.Any | None = None) -> t.Iterator[Rule]:
        """Return an iterator over all rules, or over those of *endpoint*.

        :raise KeyError: if *endpoint* is given and no rule has it.
        """
        self.update()
        if endpoint is not None:
            return iter(self._rules_by_endpoint[endpoint])
        return iter(self._rules)

    def add(self, rulefactory: RuleFactory) -> None:
        """Bind and add a rule, or every rule of a factory.

        :raise RuntimeError: if a rule is already bound to another map.
        """
        for rule in rulefactory.get_rules(self):
            rule.bind(self)
            if not rule.build_only:
                self._matcher.add(rule)
            self._rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
        self._remap = True
        self._seen = {}

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: _QueryArgs = None,
    ) -> MapAdapter:
        """Return a :class:`MapAdapter` for requests to *server_name*.

        :param server_name: the host (and port), used for redirects and
            external URLs; IDNA-encoded here.
        :param script_name: the path the app is mounted at (default ``/``).
        :param subdomain: the current subdomain (default: the map's default).
        :param url_scheme: ``http``, ``https``, ``ws`` or ``wss``.
        :param default_method: the method used when :meth:`MapAdapter.match`
            gets none.
        :param path_info: the default path for :meth:`MapAdapter.match`.
        :param query_args: query arguments kept on redirects.
        :raise RuntimeError: if host matching is on and a subdomain is given.
        :raise BadHost: if *server_name* cannot be IDNA-encoded.
        """
        if self.host_matching:
            _refuse_subdomain(subdomain)
        elif subdomain is None:
            subdomain = self.default_subdomain
        if script_name is None:
            script_name = "/"
        if path_info is None:
            path_info = "/"
        return MapAdapter(
            self,
            _idna_server_name(server_name),
            script_name,
            subdomain,
            url_scheme,
            path_info,
            default_method,
            query_args,
        )

    def _search(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, t.Any]] | str | _Info:
        """Match a normalized path (see :func:`_normalized`), as Matcher.search."""
        # PERF: a fully static URL is one dict lookup, whatever the rule count
        # (Matcher.search takes the other paths). Until the first search
        # after a change the table is empty; the compiled finder, which
        # search() makes, knows the static rules too.
        matcher = self._matcher
        table = matcher._static.get(domain)
        if table is not None and (entries := table.get(path)) is not None:
            for rule, methods, ws in entries:
                if (methods is None or method in methods) and ws is websocket:
                    return rule, dict(rule.defaults) if rule.defaults else {}
        return matcher.search(domain, path, method, websocket)

    def _match_environ(
        self, environ: dict[str, t.Any], domain: str
    ) -> tuple[Rule, dict[str, t.Any]] | HTTPException | None:
        """Match a request without binding an adapter, for the common binding.

        The common binding: no server name, no host matching, no subdomain
        matching (so the rules' domain is *domain*, whatever the host), no
        WebSocket upgrade. Returns what :meth:`MapAdapter._lookup` returns
        for ``bind_to_environ(environ, subdomain=domain)``, or None when the
        answer needs the adapter (a Host header it would refuse is
        :exc:`BadHost`, as binding raises it; a redirect; no Host header).

        PERF: most requests never build a URL, so the adapter is made only
        when one is (url_for), not for every match. A request for a static
        rule seen before is one lookup in :attr:`_seen`, keyed by what the
        answer depends on (the host too: it was checked when stored).
        """
        if self._remap:
            self.update()
        host = environ.get("HTTP_HOST")
        if host is None or "HTTP_UPGRADE" in environ:
            return None
        scheme = environ["wsgi.url_scheme"]
        path_info = environ.get("PATH_INFO")
        method = environ["REQUEST_METHOD"]
        key = (path_info, method, host, scheme, domain)
        seen = self._seen
        hit = seen.get(key)
        if hit is not None:
            rule, value = hit
            if rule is None:
                return _no_match(value)  # type: ignore[arg-type]
            # A fresh dict: the app may change view_args (url_value_preprocessor).
            return rule, dict(value) if value else {}  # type: ignore[arg-type]
        # APPSEC: the host is checked as binding checks it (an unencodable
        # name is a 400), though matching does not use it.
        if _hosts_checked.get(host) != scheme and (e := _refuse_host(scheme, host)):
            return e
        # PERF: what _normalized() does, without its call for a plain path.
        if method not in _UPPER_METHODS:
            method = method.upper()
        if path_info is None:
            path = "/"
        elif path_info.isascii() and path_info[:1] == "/" and path_info[1:2] != "/":
            path = path_info
        else:
            path = _normalized_path(path_info)
        matcher = self._matcher
        find = matcher._find or matcher._compile()  # also builds the static table
        table = matcher._static.get(domain)
        if table is not None and (entries := table.get(path)) is not None:
            for rule, methods, ws in entries:
                if (methods is None or method in methods) and not ws:
                    if not rule._plain:
                        return None
                    # A static answer depends on nothing else: remember it.
                    _remember(seen, key, (rule, rule.defaults))
                    return rule, dict(rule.defaults) if rule.defaults else {}
        # PERF: Matcher.search inlined up to its miss handling.
        segs = [domain, *path.split("/")]
        try:
            found = find(segs, len(segs), method, False)
        except SlashRequired:
            return None  # a redirect to the path with a slash added
        if found is not None:
            return found if found[0]._plain else None
        return self._environ_miss(key, domain, path, segs, method)

    def _environ_miss(
        self,
        key: _SeenKey,
        domain: str,
        path: str,
        segs: list[str],
        method: str,
    ) -> tuple[Rule, dict[str, t.Any]] | HTTPException | None:
        """:meth:`_match_environ` once the compiled finder found nothing."""
        seen = self._seen  # the one the key was missing from
        rv = self._matcher.missed(domain, path, segs, method, False)
        if isinstance(rv, str):
            return None  # a redirect to the path with slashes merged
        # PERF: 404s for the same path are common (favicon.ico, robots.txt,
        # scanners); the search that failed depends on nothing else if no
        # converter of the map can answer differently next time.
        if self._pure:
            _remember(seen, key, (None, rv))
        return _no_match(rv)

    def bind_to_environ(
        self,
        environ: t.Any,
        server_name: str | None = None,
        subdomain: str | None = None,
    ) -> MapAdapter:
        """Return a :class:`MapAdapter` for the request described by a WSGI environ.

        :param environ: a WSGI environ dict, or an object with an ``environ``.
        :param server_name: the configured server name; the subdomain is then
            what the request's host has in front of it.
        :param subdomain: the current subdomain, if known.
        :raise TypeError: if *environ* is not a dict.
        """
        # PERF: this runs once per request, so the common case (a dict, a
        # known Host, ASCII paths, no Upgrade header) avoids every regex,
        # codec and generator; the results are the same as the general path.
        if type(environ) is dict:
            env = environ
        else:
            env = getattr(environ, "environ", environ)
            if not isinstance(env, dict):
                raise TypeError(
                    f"bind_to_environ() expected a WSGI environ dict (or an object"
                    f" with an 'environ' attribute), got a {type(environ).__name__}."
                )
        scheme = env["wsgi.url_scheme"]
        # The Host header wins over SERVER_NAME/SERVER_PORT.
        host = env.get("HTTP_HOST")
        wsgi_server_name = (
            _host_from_server(env).lower()
            if host is None
            else _host_cache.get((scheme, host)) or _cache_host(scheme, host)
        )
        upgrade = env.get("HTTP_UPGRADE")
        if (
            upgrade is not None
            and upgrade.lower() == "websocket"
            and _connection_upgrade(env.get("HTTP_CONNECTION", ""))
        ):
            scheme = "wss" if scheme in {"https", "wss"} else "ws"
        if server_name is None and subdomain is not None and not self.host_matching:
            # Flask's case without SERVER_NAME or subdomain matching.
            server_name = wsgi_server_name
        else:
            server_name, subdomain = self._server_and_subdomain(
                wsgi_server_name, server_name, subdomain, scheme
            )

        # PERF: inline what bind() and MapAdapter.__init__ do (keep them in
        # step), minus the checks made above: a Python call with eight
        # arguments costs as much as filling the slots. An ASCII value
        # (nearly every one) needs no latin-1/UTF-8 round trip.
        adapter = _new_object(MapAdapter)
        adapter.map = self
        idna_name = _idna_cache.get(server_name)
        if idna_name is None:
            idna_name = _idna_server_name(server_name)
        adapter.server_name = idna_name
        value = env.get("SCRIPT_NAME")
        if not value:
            adapter.script_name = "/"
        else:
            if not value.isascii():
                value = _wsgi_str(value)
            adapter.script_name = value if value[-1] == "/" else f"{value}/"
        adapter.subdomain = subdomain
        adapter.url_scheme = scheme
        value = env.get("PATH_INFO")
        if value is None:
            value = "/"
        elif not value.isascii():
            value = _wsgi_str(value)
        adapter.path_info = value
        adapter.default_method = env["REQUEST_METHOD"]
        value = env.get("QUERY_STRING")
        if value is not None and not value.isascii():
            value = _wsgi_str(value)
        adapter.query_args = value
        adapter.websocket = scheme in {"ws", "wss"}
        return adapter

    def _server_and_subdomain(
        self,
        wsgi_server_name: str,
        server_name: str | None,
        subdomain: str | None,
        scheme: str,
    ) -> tuple[str, str | None]:
        """Return bind_to_environ's server name and subdomain.

        :raise RuntimeError: if host matching is on and a subdomain is given.
        """
        if server_name is None:
            server_name = wsgi_server_name
        else:
            server_name = server_name.lower()
            # Drop the scheme's default port, as the request host does.
            if scheme in {"http", "ws"}:
                server_name = server_name.removesuffix(":80")
            elif scheme in {"https", "wss"}:
                server_name = server_name.removesuffix(":443")
        if self.host_matching:
            _refuse_subdomain(subdomain)
        elif subdomain is None:
            current = wsgi_server_name.split(".")
            real = server_name.split(".")
            offset = -len(real)
            if current[offset:] != real:
                # E.g. the server was reached by IP address. An impossible
                # subdomain makes every match a 404 instead of an error.
                warnings.warn(
                    f"Current server name {wsgi_server_name!r} doesn't match"
                    f" configured server name {server_name!r}",
                    stacklevel=3,
                )
                subdomain = "<invalid>"
            else:
                subdomain = ".".join(filter(None, current[:offset]))
        return server_name, subdomain

    def update(self) -> None:
        """Re-sort the rules after a change (called before matching and building)."""
        if not self._remap:
            return
        with self._remap_lock:
            # Another thread may have updated while this one waited.
            if self._remap:
                self._matcher.update()
                for rules in self._rules_by_endpoint.values():
                    rules.sort(key=lambda x: x.build_compare_key())
                    self._flag_plain(rules)
                self._pure = all(
                    type(converter).to_python in _PURE_TO_PYTHON
                    for rule in self._rules
                    if not rule.build_only
                    for converter in rule._converters.values()
                )
                self._seen = {}
                self._remap = False

    @staticmethod
    def _flag_plain(rules: list[Rule]) -> None:
        """Mark the rules of one endpoint that can never redirect on a match."""
        providers: list[Rule] = []
        for rule in rules:
            # PERF: most rules never redirect; the flag lets a match skip the
            # alias, defaults and redirect_to checks entirely.
            rule._plain = (
                not rule.alias
                and rule.redirect_to is None
                and not any(p.provides_defaults_for(rule) for p in providers)
            )
            if rule.defaults and not rule.build_only:
                providers.append(rule)

    def __repr__(self) -> str:
        from pprint import pformat  # PERF: imported on first use (import time)

        return f"{type(self).__name__}({pformat(list(self.iter_rules()))})"


class MapAdapter:
    """A :class:`Map` bound to one server: matches and builds URLs for requests."""

    # PERF: one adapter is made per request; slots make that (and the
    # attribute reads of match()) cheaper than an instance dict.
    __slots__ = (
        "default_method",
        "map",
        "path_info",
        "query_args",
        "script_name",
        "server_name",
        "subdomain",
        "url_scheme",
        "websocket",
    )

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str | None,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: _QueryArgs = None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        if script_name[-1:] != "/":
            script_name += "/"
        self.script_name = script_name
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in {"ws", "wss"}

    def dispatch(
        self,
        view_func: t.Callable[[t.Any, t.Mapping[str, t.Any]], t.Any],
        path_info: str | None = None,
        method: str | None = None,
        catch_http_exceptions: bool = False,
    ) -> t.Any:
        """Match, then return ``view_func(endpoint, values)``.

        A redirect is returned (not raised); other HTTP errors are returned
        if *catch_http_exceptions*, else raised.
        """
        try:
            try:
                endpoint, args = self.match(path_info, method)
            except RequestRedirect as e:
                return e
            return view_func(endpoint, args)
        except HTTPException as e:
            if catch_http_exceptions:
                return e
            raise

    @t.overload
    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: t.Literal[False] = False,
        query_args: _QueryArgs = None,
        websocket: bool | None = None,
    ) -> tuple[t.Any, t.Mapping[str, t.Any]]: ...

    @t.overload
    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: t.Literal[True] = True,
        query_args: _QueryArgs = None,
        websocket: bool | None = None,
    ) -> tuple[Rule, t.Mapping[str, t.Any]]: ...

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: _QueryArgs = None,
        websocket: bool | None = None,
    ) -> tuple[t.Any, t.Mapping[str, t.Any]]:
        """Return ``(endpoint, view_args)`` (or ``(rule, view_args)``) for a path.

        :param path_info: the path; defaults to the one given to bind.
        :param method: the HTTP method; defaults to the bound default method.
        :param return_rule: return the :class:`Rule` instead of its endpoint.
        :param query_args: query arguments to keep on redirects.
        :param websocket: match WebSocket rules; defaults to the bound scheme.
        :raise NotFound: no rule matches the path.
        :raise MethodNotAllowed: rules match the path, but not the method.
        :raise WebsocketMismatch: the only match is for the other protocol.
        :raise RequestRedirect: the canonical URL differs (slashes, defaults,
            alias, ``redirect_to``).
        """
        rv = self._lookup(path_info, method, query_args, websocket)
        if rv.__class__ is not tuple:
            raise rv  # type: ignore[misc]
        rule, args = rv
        return (rule, args) if return_rule else (rule.endpoint, args)

    def _lookup(
        self,
        path_info: str | None,
        method: str | None,
        query_args: _QueryArgs,
        websocket: bool | None,
    ) -> tuple[Rule, dict[str, t.Any]] | HTTPException:
        """:meth:`match` with ``return_rule``, its HTTP error returned, not raised.

        PERF: a 404 is common (scanners, typos); raising and catching it
        costs more than the search. An error raised while matching (a
        redirect built for a rule's defaults, a converter's own HTTP error)
        still propagates.
        """
        map = self.map
        if map._remap:
            map.update()
        if path_info is None:
            path_info = self.path_info
        if not method:
            method = self.default_method
        websocket = self.websocket if websocket is None else bool(websocket)
        if map.host_matching or self.subdomain is None:
            domain = self.server_name
        else:
            domain = self.subdomain
        path, method = _normalized(path_info, method)
        rv = map._search(domain, path, method, websocket)
        if rv.__class__ is tuple:
            rule, args = rv
            if not rule._plain:
                self._redirects(rule, args, domain, path, method, query_args)
            return rule, args
        if rv.__class__ is _Info:
            return _no_match(rv)
        return self._miss(rv, query_args)  # type: ignore[arg-type]

    def _miss(self, path: str, query_args: _QueryArgs) -> HTTPException:
        """Return the redirect to *path*, where the search found a rule."""
        return RequestRedirect(self.make_redirect_url(quote_segment(path), query_args))

    def _redirects(
        self,
        rule: Rule,
        rv: dict[str, t.Any],
        domain: str,
        path: str,
        method: str,
        query_args: _QueryArgs,
    ) -> None:
        """Raise RequestRedirect if the matched rule asks for a redirect."""
        if query_args is None:
            query_args = self.query_args or {}
        if rule.alias and self.map.redirect_defaults:
            raise RequestRedirect(
                self.make_alias_redirect_url(
                    f"{domain}|{path}", rule.endpoint, rv, method, query_args
                )
            )
        if self.map.redirect_defaults:
            url = self.get_default_redirect(rule, method, rv, query_args)
            if url is not None:
                raise RequestRedirect(url)
        if rule.redirect_to is None:
            return
        if isinstance(rule.redirect_to, str):

            def fill(m: re.Match[str]) -> str:
                name = m.group(1)
                return rule._converters[name].to_url(rv[name])

            target = _PLACEHOLDER_RE.sub(fill, rule.redirect_to)
        else:
            target = rule.redirect_to(self, **rv)
        netloc = (
            f"{self.subdomain}.{self.server_name}"
            if self.subdomain
            else self.server_name
        )
        raise RequestRedirect(
            urljoin(f"{self.url_scheme or 'http'}://{netloc}{self.script_name}", target)
        )

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Return True if the path matches (a redirect counts as a match)."""
        try:
            self.match(path_info, method)
        except RequestRedirect:
            pass
        except HTTPException:
            return False
        return True

    def allowed_methods(self, path_info: str | None = None) -> t.Iterable[str]:
        """Return the methods that rules matching the path accept."""
        try:
            self.match(path_info, method="--")
        except MethodNotAllowed as e:
            return e.valid_methods or []
        except HTTPException:
            pass
        return []

    def get_host(self, domain_part: str | None) -> str:
        """Return the full host for a subdomain (or a host, when host matching)."""
        if self.map.host_matching:
            return self.server_name if domain_part is None else domain_part
        subdomain = self.subdomain if domain_part is None else domain_part
        if subdomain:
            return f"{subdomain}.{self.server_name}"
        return self.server_name

    def get_default_redirect(
        self,
        rule: Rule,
        method: str,
        values: t.MutableMapping[str, t.Any],
        query_args: t.Mapping[str, t.Any] | str,
    ) -> str | None:
        """Return the URL of a rule providing defaults for *rule*, if one fits."""
        rules = self.map._rules_by_endpoint[rule.endpoint]
        # Rules after this one (and itself) rank lower for the defaults.
        for other in itertools.takewhile(lambda r: r is not rule, rules):
            if other.provides_defaults_for(rule) and other.suitable_for(values, method):
                values.update(other.defaults or {})
                built = other.build(values)
                if built is not None:
                    domain_part, path = built
                    return self.make_redirect_url(path, query_args, domain_part)
        return None

    def encode_query_args(self, query_args: t.Mapping[str, t.Any] | str) -> str:
        """Return *query_args* as a query string (a string is kept as is)."""
        if isinstance(query_args, str):
            return query_args
        return encode_query(query_args)

    def make_redirect_url(
        self,
        path_info: str,
        query_args: _QueryArgs = None,
        domain_part: str | None = None,
    ) -> str:
        """Return the absolute URL for *path_info* on this adapter's host."""
        if query_args is None:
            query_args = self.query_args
        query = self.encode_query_args(query_args) if query_args else None
        host = self.get_host(domain_part)
        path = "/".join((self.script_name.strip("/"), path_info.lstrip("/")))
        return urlunsplit((self.url_scheme or "http", host, path, query, None))

    def make_alias_redirect_url(
        self,
        path: str,
        endpoint: t.Any,
        values: t.Mapping[str, t.Any],
        method: str,
        query_args: t.Mapping[str, t.Any] | str,
    ) -> str:
        """Return the canonical (non-alias) URL of *endpoint* for a redirect."""
        url = self.build(
            endpoint, values, method, append_unknown=False, force_external=True
        )
        if query_args:
            url += f"?{self.encode_query_args(query_args)}"
        return url

    def _partial_build(
        self,
        endpoint: t.Any,
        values: t.Mapping[str, t.Any],
        method: str | None,
        append_unknown: bool,
    ) -> tuple[str, str, bool] | None:
        """Return ``(domain_part, path, websocket)`` of the first rule that builds."""
        if method is None:
            rv = self._partial_build(
                endpoint, values, self.default_method, append_unknown
            )
            if rv is not None:
                return rv
        first_match = None
        for rule in self.map._rules_by_endpoint.get(endpoint, ()):
            if not rule.suitable_for(values, method):
                continue
            built = rule.build(values, append_unknown)
            if built is None:
                continue
            found = (built[0], built[1], rule.websocket)
            if not self.map.host_matching or found[0] == self.server_name:
                return found
            if first_match is None:
                # Host matching: prefer a rule on the current host.
                first_match = found
        return first_match

    def build(
        self,
        endpoint: t.Any,
        values: t.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """Return the URL for *endpoint* with *values* filled in.

        The URL is relative (path only) unless it is on another host or
        subdomain, *force_external* is set, or the rule is a WebSocket rule.

        :param endpoint: the endpoint of the rule to build.
        :param values: values for the rule's variables; the others become the
            query string (``None`` values are dropped; a :class:`MultiDict`'s
            lists are kept).
        :param method: only use rules accepting this method.
        :param force_external: always return an absolute URL.
        :param append_unknown: add unknown values as a query string.
        :param url_scheme: the scheme of absolute URLs (default: the bound one).
        :raise BuildError: if no rule of the endpoint can be built.
        """
        self.map.update()
        if values:
            if isinstance(values, MultiDict):
                values = {
                    k: (v[0] if len(v) == 1 else v) for k, v in values.lists() if v
                }
            else:
                values = {k: v for k, v in values.items() if v is not None}
        else:
            values = {}
        rv = self._partial_build(endpoint, values, method, append_unknown)
        if rv is None:
            raise BuildError(endpoint, values, method, self)
        domain_part, path, websocket = rv
        host = self.get_host(domain_part)
        if url_scheme is None:
            url_scheme = self.url_scheme
        secure = url_scheme in {"https", "wss"}
        if websocket:
            # Browsers need a full URL with a ws(s) scheme for WebSockets.
            force_external = True
            url_scheme = "wss" if secure else "ws"
        elif url_scheme:
            url_scheme = "https" if secure else "http"
        if not force_external and (
            (self.map.host_matching and host == self.server_name)
            or (not self.map.host_matching and domain_part == self.subdomain)
        ):
            return f"{self.script_name.rstrip('/')}/{path.lstrip('/')}"
        scheme = f"{url_scheme}:" if url_scheme else ""
        return f"{scheme}//{host}{self.script_name[:-1]}/{path.lstrip('/')}"
