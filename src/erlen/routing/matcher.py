"""The state-tree matcher: a tree walker, and a compiler of the tree to Python source.

Rules are stored in a tree of :class:`State` objects, one level per path
segment (the first level is the host or subdomain). A state has static
transitions (a dict keyed by the literal segment), dynamic transitions (a
regex per segment, sorted by weight) and the rules that end there.

Matching is a depth-first search that tries static transitions before dynamic
ones; the first rule accepting the method and WebSocket flag wins. The tree
is compiled to nested Python code on first use (see :attr:`Matcher.source`),
and fully static paths skip the search with one dict lookup.
:meth:`Matcher.interpret` walks the same tree without compiling; tests check
that both agree.
"""

from __future__ import annotations

import re
import threading
import typing as t

from .converters import BaseConverter
from .converters import IntegerConverter
from .exceptions import ValidationError

if t.TYPE_CHECKING:  # pragma: no cover
    from .rules import Rule
    from .rules import RulePart

_Result = tuple["Rule", dict[str, t.Any]]
_Finder = t.Callable[[list[str], int, str, bool], "_Result | None"]

_StaticEntry = tuple["Rule", "frozenset[str] | None", bool]
_StaticTable = dict[str, dict[str, tuple[_StaticEntry, ...]]]

_MULTI_SLASH = re.compile("/{2,}")
_EMPTY: list[str] = []
_SLASH: list[str] = [""]
# Above this many static children, a state dispatches through a dict of
# per-child functions instead of an if/elif chain.
_FANOUT = 4
# Nesting depth (in indents) after which a subtree becomes its own function,
# well below the tokenizer's limit of 100 indentation levels.
_MAX_INDENT = 40
# Converter regexes that a split-out segment can be tested against without re.
_ANY_SEGMENT = frozenset({"(?P<__erlen_0>[^/]+)", "(?P<__erlen_0>[^/]{1,})"})
_DIGITS = "(?P<__erlen_0>[0-9]+)"


class SlashRequired(Exception):
    """Internal: the path matches a rule if a trailing slash is added."""


class Transition:
    """A dynamic edge of the tree: a segment regex and the state it leads to."""

    __slots__ = ("groups", "part", "pattern", "state", "suffix")

    def __init__(self, part: RulePart, state: State) -> None:
        self.part = part
        self.state = state
        self.pattern = re.compile(part.content)
        index = self.pattern.groupindex
        count = sum(1 for name in index if name.startswith("__erlen_"))
        #: Group numbers of the converter values, in rule order.
        self.groups = tuple(index[f"__erlen_{i}"] for i in range(count))
        #: Group number of the optional trailing slash of a suffixed part.
        self.suffix = self.pattern.groups if part.suffixed else 0


class State:
    """A node of the tree: static and dynamic transitions, and the rules ending here."""

    __slots__ = ("dynamic", "rules", "static")

    def __init__(self) -> None:
        self.dynamic: list[Transition] = []
        self.rules: list[Rule] = []
        self.static: dict[str, State] = {}


class _Info:
    """What a failed search saw: methods of path-matching rules, WebSocket misses."""

    __slots__ = ("have_match_for", "websocket_mismatch")

    def __init__(self) -> None:
        self.have_match_for: set[str] = set()
        self.websocket_mismatch = False


def _convert(rule: Rule, values: list[str]) -> dict[str, t.Any] | None:
    """Return the view arguments for *rule*, or None if a converter refuses."""
    result: dict[str, t.Any] = {}
    try:
        for (name, converter), value in zip(
            rule._converters.items(), values, strict=True
        ):
            result[name] = converter.to_python(value)
    except ValidationError:
        return None
    if rule.defaults:
        result.update(rule.defaults)
    return result


def _accepts(rule: Rule, method: str, websocket: bool) -> bool:
    """Return True if *rule* takes *method* and the WebSocket flag."""
    return (rule.methods is None or method in rule.methods) and bool(
        rule.websocket
    ) == websocket


class Matcher:
    """The rule tree of one map, with its static table and compiled finder.

    :param merge_slashes: retry a failed match with repeated slashes merged.
    """

    def __init__(self, merge_slashes: bool) -> None:
        self.merge_slashes = merge_slashes
        self._root = State()
        self._lock = threading.Lock()
        self._find: _Finder | None = None
        self._static: _StaticTable = {}
        #: The Python source of the compiled finder (after the first match).
        self.source: str | None = None

    def add(self, rule: Rule) -> None:
        """Add *rule* to the tree; the finder is recompiled on next use."""
        state = self._root
        for part in rule._parts:
            if part.static:
                state = state.static.setdefault(part.content, State())
                continue
            for transition in state.dynamic:
                if transition.part == part:
                    state = transition.state
                    break
            else:
                transition = Transition(part, State())
                state.dynamic.append(transition)
                state = transition.state
        state.rules.append(rule)
        self._find = None
        # The static table is rebuilt with the finder; Map reads it before
        # calling search(), so it must not outlive a change.
        self._static = {}

    def update(self) -> None:
        """Sort every state's dynamic transitions by weight (stable)."""
        stack = [self._root]
        while stack:
            state = stack.pop()
            state.dynamic.sort(key=lambda tr: tr.part.weight)
            stack.extend(state.static.values())
            stack.extend(tr.state for tr in state.dynamic)
        self._find = None
        self._static = {}

    # -- matching ---------------------------------------------------------

    def search(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> _Result | str | _Info:
        """Return ``(rule, view_args)`` for the request, or why there is none.

        The caller has looked the path up in the static table first (see
        ``Map._search``). PERF: a miss is returned, not raised (404s are
        common and raising costs): a ``str`` is the path to redirect to (a
        slash added, or slashes merged), an :class:`_Info` says what the
        failed search saw.
        """
        find = self._find or self._compile()
        segs = [domain, *path.split("/")]
        try:
            rv = find(segs, len(segs), method, websocket)
        except SlashRequired:
            return f"{path}/"
        if rv is not None:
            return rv
        return self.missed(domain, path, segs, method, websocket)

    def missed(
        self, domain: str, path: str, segs: list[str], method: str, websocket: bool
    ) -> str | _Info:
        """:meth:`search` once the finder found nothing for *segs* (of *path*)."""
        find = self._find or self._compile()
        tried = [segs]
        # PERF: the regex only runs when there is something to merge.
        if self.merge_slashes and "//" in path:
            merged = _MULTI_SLASH.sub("/", path)
            segs = [domain, *merged.split("/")]
            tried.append(segs)
            try:
                rv = find(segs, len(segs), method, websocket)
            except SlashRequired:
                return f"{merged}/"
            if rv is not None and rv[0].merge_slashes is not False:
                return merged
        # NOTE: misses are rare on the hot path; the tree walker collects the
        # 405/400 details so that the compiled code stays branch-light.
        info = _Info()
        for segs in tried:
            self.interpret(segs, method, websocket, info)
        return info

    def interpret(
        self,
        segs: list[str],
        method: str,
        websocket: bool,
        info: _Info | None = None,
    ) -> _Result | None:
        """Walk the tree for *segs* (``[domain, *path.split("/")]``) without compiling.

        :raise SlashRequired: the path matches with a trailing slash added.
        """
        return self._walk(self._root, segs, 0, [], method, websocket, info or _Info())

    def _terminal(
        self,
        state: State,
        values: list[str],
        method: str,
        websocket: bool,
        info: _Info,
        strict: bool,
    ) -> _Result | None:
        """Return the first rule of *state* taking the request (all parts used)."""
        for rule in state.rules:
            if strict and rule.strict_slashes:
                continue
            if rule.methods is not None and method not in rule.methods:
                info.have_match_for.update(rule.methods)
            elif bool(rule.websocket) != websocket:
                info.websocket_mismatch = True
            else:
                args = _convert(rule, values)
                if args is not None:
                    return rule, args
        return None

    def _at_end(
        self,
        state: State,
        values: list[str],
        method: str,
        websocket: bool,
        info: _Info,
    ) -> _Result | None:
        """Match at *state* with the whole path consumed."""
        rv = self._terminal(state, values, method, websocket, info, False)
        if rv is not None:
            return rv
        # The path would match with a trailing slash added.
        child = state.static.get("")
        if child is not None:
            for rule in child.rules:
                if _accepts(rule, method, websocket):
                    if rule.strict_slashes:
                        raise SlashRequired()
                    args = _convert(rule, values)
                    if args is not None:
                        return rule, args
        return None

    def _walk(
        self,
        state: State,
        segs: list[str],
        i: int,
        values: list[str],
        method: str,
        websocket: bool,
        info: _Info,
    ) -> _Result | None:
        """Match ``segs[i:]`` from *state*, depth first, static before dynamic."""
        if i == len(segs):
            return self._at_end(state, values, method, websocket, info)
        seg = segs[i]
        child = state.static.get(seg)
        if child is not None:
            rv = self._walk(child, segs, i + 1, values, method, websocket, info)
            if rv is not None:
                return rv
        for tr in state.dynamic:
            if tr.part.final:
                target, rest, j = "/".join(segs[i:]), _EMPTY, 0
            else:
                target, rest, j = seg, segs, i + 1
            m = tr.pattern.fullmatch(target)
            if m is None:
                continue
            if tr.suffix and m.group(tr.suffix) == "/":
                rest, j = _SLASH, 0
            groups = [m.group(g) for g in tr.groups]
            rv = self._walk(tr.state, rest, j, values + groups, method, websocket, info)
            if rv is not None:
                return rv
        if i == len(segs) - 1 and seg == "":
            # Only a trailing slash is left: rules without strict slashes match.
            return self._terminal(state, values, method, websocket, info, True)
        return None

    # -- compiling --------------------------------------------------------

    def _compile(self) -> _Finder:
        """Build the static table and compile the finder, once per change."""
        with self._lock:
            if self._find is not None:
                return self._find
            static: _StaticTable = {}
            for domain, child in self._root.static.items():
                self._collect_static(child, [domain], static)
            compiler = _Compiler()
            source, namespace = compiler.compile(self._root)
            # NOTE: the source is generated from the rule tree, never from
            # request data; rule strings only reach it as repr() literals and
            # regexes live in the namespace, so exec cannot run foreign code.
            exec(compile(source, "<erlen routing>", "exec"), namespace)  # noqa: S102
            self.source = source
            self._static = static
            find: _Finder = namespace["_find"]
            self._find = find
            return find

    def _collect_static(
        self,
        state: State,
        segs: list[str],
        table: _StaticTable,
    ) -> None:
        """Record every state reachable by static transitions only."""
        if state.rules:
            table.setdefault(segs[0], {})["/".join(segs[1:])] = tuple(
                (
                    rule,
                    None if rule.methods is None else frozenset(rule.methods),
                    bool(rule.websocket),
                )
                for rule in state.rules
            )
        for seg, child in state.static.items():
            self._collect_static(child, [*segs, seg], table)


def _is_identity(converter: BaseConverter) -> bool:
    """Return True if the converter's ``to_python`` returns its input unchanged."""
    return type(converter).to_python is BaseConverter.to_python


def _is_plain_int(converter: BaseConverter) -> bool:
    """Return True for an ``int`` converter without options (``int()`` suffices)."""
    return (
        type(converter) is IntegerConverter
        and converter.regex == IntegerConverter.regex
        and not converter.fixed_digits
        and converter.min is None
        and converter.max is None
    )


class _Compiler:
    """Generate the finder: nested ifs mirroring :meth:`Matcher._walk`."""

    def __init__(self) -> None:
        self.namespace: dict[str, t.Any] = {
            "ValidationError": ValidationError,
            "SlashRequired": SlashRequired,
        }
        self.functions: list[str] = []
        self.tables: list[str] = []
        self.count = 0

    def compile(self, root: State) -> tuple[str, dict[str, t.Any]]:
        """Return the module source defining ``_find`` and its namespace."""
        body = self.state(root, "idx", 0, 0, 1)
        main = ["def _find(segs, n, method, websocket):", *body, "    return None"]
        source = "\n\n".join([*self.functions, "\n".join(main), *self.tables])
        return source + "\n", self.namespace

    def name(self, prefix: str, obj: t.Any = None) -> str:
        """Return a fresh global name, bound to *obj* in the namespace."""
        self.count += 1
        name = f"_{prefix}{self.count}"
        if obj is not None:
            self.namespace[name] = obj
        return name

    @staticmethod
    def params(nvals: int) -> str:
        return "".join(f", v{i}" for i in range(nvals))

    def function(self, state: State, k: int, nvals: int) -> str:
        """Emit *state* (at segment *k*) as a function; return its name."""
        name = self.name("S")
        body = self.state(state, "idx", k, nvals, 1) or ["    pass"]
        lines = [f"def {name}(segs, n, method, websocket{self.params(nvals)}):"]
        self.functions.append("\n".join([*lines, *body, "    return None"]))
        return name

    def call(self, fname: str, nvals: int, pad: str) -> list[str]:
        return [
            f"{pad}rv = {fname}(segs, n, method, websocket{self.params(nvals)})",
            f"{pad}if rv is not None:",
            f"{pad}    return rv",
        ]

    def state(self, st: State, mode: str, k: int, nvals: int, ind: int) -> list[str]:
        """Emit the code matching *st*; *mode* says what remains of the path.

        ``idx``: ``segs[k:]``; ``empty``: nothing; ``slash``: one empty segment.
        """
        pad = "    " * ind
        if mode == "empty":
            return self.terminal(st, nvals, ind)
        if mode == "slash":
            # NOTE: only a suffixed part (``<path:p>/``) leads here, and its
            # state has exactly one edge, the static "" to the rules.
            return self.terminal(st.static[""], nvals, ind)
        term = self.terminal(st, nvals, ind + 1)
        rest = self.branch(st, k, nvals, ind + 1)
        if term:
            out = [f"{pad}if n == {k}:", *term]
            if rest:
                out += [f"{pad}else:", *rest]
            return out
        # NOTE: only the root of an empty map has neither rules nor edges.
        return [f"{pad}if n != {k}:", *(rest or [f"{pad}    pass"])]

    def accept(self, rule: Rule, nvals: int, ind: int, slash: bool) -> list[str]:
        """Emit "return this rule if it takes the method" (or raise SlashRequired)."""
        pad = "    " * ind
        conds = []
        if rule.methods is not None:
            conds.append(f"method in {self.name('M', frozenset(rule.methods))}")
        conds.append("websocket" if rule.websocket else "not websocket")
        out = [f"{pad}if {' and '.join(conds)}:"]
        inner = pad + "    "
        if slash and rule.strict_slashes:
            return [*out, f"{inner}raise SlashRequired()"]
        rname = self.name("R", rule)
        converters = [c for c in rule._converters.values() if not _is_identity(c)]
        # PERF: a plain <int:x> value already matched [0-9]+, so int() is all
        # its to_python does; int() only fails (ValueError) past Python's
        # digit limit, which must be a non-match like ValidationError.
        fast = all(_is_plain_int(c) for c in converters)
        items = []
        for i, (name, converter) in enumerate(rule._converters.items()):
            if _is_identity(converter):
                items.append(f"{name!r}: v{i}")
            elif fast:
                items.append(f"{name!r}: int(v{i})")
            else:
                conv = self.name("C", converter.to_python)
                items.append(f"{name!r}: {conv}(v{i})")
        if rule.defaults:
            items.append(f"**{self.name('D', rule.defaults)}")
        ret = f"return {rname}, {{{', '.join(items)}}}"
        if not converters:
            return [*out, f"{inner}{ret}"]
        error = "ValueError" if fast else "ValidationError"
        return [
            *out,
            f"{inner}try:",
            f"{inner}    {ret}",
            f"{inner}except {error}:",
            f"{inner}    pass",
        ]

    def terminal(self, st: State, nvals: int, ind: int) -> list[str]:
        """Emit the checks made when the whole path is consumed at *st*."""
        out: list[str] = []
        for rule in st.rules:
            out += self.accept(rule, nvals, ind, False)
        child = st.static.get("")
        if child is not None:
            for rule in child.rules:
                out += self.accept(rule, nvals, ind, True)
        return out

    def branch(self, st: State, k: int, nvals: int, ind: int) -> list[str]:
        """Emit the transitions of *st* for segment *k*."""
        pad = "    " * ind
        out: list[str] = []
        out.append(f"{pad}s{k} = segs[{k}]")
        out += self.static_idx(st, k, nvals, ind)
        for tr in st.dynamic:
            out += self.dynamic(tr, k, nvals, ind)
        lenient = [r for r in st.rules if not r.strict_slashes]
        if lenient:
            out.append(f'{pad}if n == {k + 1} and s{k} == "":')
            for rule in lenient:
                out += self.accept(rule, nvals, ind + 1, False)
        if len(out) == 1:
            return []  # nothing reads the segment
        return out

    def static_idx(self, st: State, k: int, nvals: int, ind: int) -> list[str]:
        """Emit the static transitions of *st* on ``segs[k]``."""
        pad = "    " * ind
        if not st.static:
            return []
        if len(st.static) <= _FANOUT and ind < _MAX_INDENT:
            out: list[str] = []
            keyword = "if"
            for seg, child in st.static.items():
                body = self.state(child, "idx", k + 1, nvals, ind + 1)
                out += [
                    f"{pad}{keyword} s{k} == {seg!r}:",
                    *(body or [pad + "    pass"]),
                ]
                keyword = "elif"
            return out
        # PERF: many siblings (e.g. 1,000 resources under "/"): one dict lookup
        # picks the child's function instead of a chain of comparisons.
        entries = [
            f"{seg!r}: {self.function(child, k + 1, nvals)}"
            for seg, child in st.static.items()
        ]
        table = self.name("T")
        self.tables.append(f"{table} = {{{', '.join(entries)}}}")
        return [
            f"{pad}f = {table}.get(s{k})",
            f"{pad}if f is not None:",
            *self.call("f", nvals, pad + "    "),
        ]

    def dynamic(self, tr: Transition, k: int, nvals: int, ind: int) -> list[str]:
        """Emit one dynamic transition on ``segs[k]``: test, bind values, descend."""
        pad = "    " * ind
        inner = pad + "    "
        part = tr.part
        new = [f"v{nvals + i}" for i in range(len(tr.groups))]
        out: list[str]
        if not part.final and part.content in _ANY_SEGMENT:
            # PERF: a lone default converter matches any non-empty segment.
            out = [f"{pad}if s{k}:", f"{inner}{new[0]} = s{k}"]
        elif not part.final and part.content == _DIGITS:
            # PERF: str methods beat the regex engine for [0-9]+.
            test = f"s{k}.isdigit() and s{k}.isascii()"
            out = [f"{pad}if {test}:", f"{inner}{new[0]} = s{k}"]
        else:
            target = f'"/".join(segs[{k}:])' if part.final else f"s{k}"
            pattern = self.name("P", tr.pattern)
            out = [f"{pad}m = {pattern}.fullmatch({target})", f"{pad}if m is not None:"]
            if len(new) == 1:
                out.append(f"{inner}{new[0]} = m.group({tr.groups[0]})")
            else:
                out.append(f"{inner}{', '.join(new)} = m.group{tr.groups!r}")
        nvals += len(new)
        child = tr.state
        if not part.final:
            if ind + 1 >= _MAX_INDENT:
                # Deep rules: continue in a new function to bound the nesting.
                fname = self.function(child, k + 1, nvals)
                return out + self.call(fname, nvals, inner)
            body = self.state(child, "idx", k + 1, nvals, ind + 1)
        elif tr.suffix:
            body = [
                f"{inner}if m.group({tr.suffix}) == '/':",
                *(
                    self.state(child, "slash", 0, nvals, ind + 2)
                    or [inner + "    pass"]
                ),
                f"{inner}else:",
                *(
                    self.state(child, "empty", 0, nvals, ind + 2)
                    or [inner + "    pass"]
                ),
            ]
        else:
            body = self.state(child, "empty", 0, nvals, ind + 1)
        return out + (body or [inner + "pass"])
