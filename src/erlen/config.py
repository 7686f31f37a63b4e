"""The application configuration mapping and its loaders."""

from __future__ import annotations

import errno
import importlib
import json
import os
import types
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Mapping

T = t.TypeVar("T")

# Errors that mean "there is no file there", which ``silent=True`` ignores.
_PYFILE_MISSING = frozenset({errno.ENOENT, errno.EISDIR, errno.ENOTDIR})
# NOTE: Flask's ``from_file`` does not treat ENOTDIR as missing; neither do we.
_FILE_MISSING = frozenset({errno.ENOENT, errno.EISDIR})


class _ConfigOwner(t.Protocol):
    """Anything with a ``config`` mapping, such as the application object."""

    @property
    def config(self) -> Config: ...


def import_string(import_name: str, silent: bool = False) -> t.Any:
    """Import and return the object named by a dotted path.

    ``"package.module"`` gives the module, ``"package.module.attr"`` (or
    ``"package.module:attr"``) gives an attribute of the module.

    :param import_name: The absolute dotted path to import.
    :param silent: Return ``None`` instead of raising :exc:`ImportError`.
    :raise ImportError: If the module or the attribute cannot be found.
    :raise ValueError: If the path is empty or relative (starts with ``.``).
    """
    dotted = import_name.replace(":", ".")

    if not dotted or dotted[0] == ".":
        raise ValueError(
            f"Cannot import {import_name!r}: expected an absolute dotted path"
            " such as 'package.module.attr'."
        )

    try:
        try:
            return importlib.import_module(dotted)
        except ImportError:
            if "." not in dotted:
                raise

        module_name, _, attr = dotted.rpartition(".")
        module = importlib.import_module(module_name)

        try:
            return getattr(module, attr)
        except AttributeError:
            raise ImportError(
                f"module {module_name!r} has no attribute {attr!r}", name=module_name
            ) from None
    except ImportError as e:
        if silent:
            return None

        raise ImportError(
            f"Could not import {import_name!r}: {e}. Check that the path names an"
            " importable module (on sys.path, with its packages' __init__.py),"
            " optionally followed by an attribute of that module.",
            name=dotted,
        ) from e


class ConfigAttribute(t.Generic[T]):
    """Forward an attribute of the owning object to ``owner.config[name]``.

    :param name: The configuration key.
    :param get_converter: Applied to the configuration value on read.
    """

    def __init__(self, name: str, get_converter: Callable[[t.Any], T] | None = None):
        #: The configuration key this attribute reads and writes.
        self.__name__ = name
        #: Converts the stored value on read, if set.
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: type[t.Any] | None = None) -> t.Self: ...

    @t.overload
    def __get__(self, obj: _ConfigOwner, owner: type[t.Any] | None = None) -> T: ...

    def __get__(
        self, obj: _ConfigOwner | None, owner: type[t.Any] | None = None
    ) -> T | t.Self:
        if obj is None:
            return self

        rv = obj.config[self.__name__]

        if self.get_converter is not None:
            rv = self.get_converter(rv)

        return rv  # type: ignore[no-any-return]

    def __set__(self, obj: _ConfigOwner, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, t.Any]):
    """A ``dict`` of configuration values with loaders for files, objects and env.

    Only UPPERCASE names are taken from modules, objects and mappings, so a
    configuration file may use lowercase names for its own helper values.

    :param root_path: Relative file names given to the loaders are resolved
        against this directory (the application's root or instance path).
    :param defaults: Initial values.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(defaults or {})
        #: The directory relative file names are resolved against.
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load a Python configuration file named by an environment variable.

        :param variable_name: The environment variable holding the file path.
        :param silent: Return ``False`` instead of raising if the variable is
            unset or empty, or the file is missing.
        :return: ``True`` if a file was loaded.
        :raise RuntimeError: If the variable is unset or empty and ``silent``
            is false.
        """
        path = os.environ.get(variable_name)

        if not path:
            if silent:
                return False

            raise RuntimeError(
                f"Cannot load the configuration: the environment variable"
                f" {variable_name!r} is not set (or is empty). Set it to the path"
                " of a Python configuration file, or pass silent=True to skip"
                " loading."
            )

        return self.from_pyfile(path, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "FLASK", *, loads: Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Load every environment variable named ``{prefix}_KEY`` as ``KEY``.

        Variables are read in sorted order. Each value is passed to ``loads``
        and kept as the raw string if that raises. A ``__`` in the key nests
        into dicts: ``FLASK_DB__HOST`` sets ``config["DB"]["HOST"]``, creating
        missing intermediate dicts.

        :param prefix: The prefix, without the trailing ``_``.
        :param loads: Parses each value; :func:`json.loads` by default.
        :return: Always ``True``.
        :raise TypeError: If a ``__`` path runs through a value that is not a
            dict.
        """
        prefix = f"{prefix}_"
        environ = os.environ

        for env_key in sorted(environ):
            if not env_key.startswith(prefix):
                continue

            raw = environ[env_key]
            key = env_key[len(prefix) :]

            try:
                value = loads(raw)
            except Exception:
                # NOTE: any loader failure means "not structured": keep the text.
                value = raw

            if "__" not in key:
                self[key] = value
                continue

            current: t.Any = self
            *parents, tail = key.split("__")

            for part in parents:
                if part not in current:
                    current[part] = {}

                current = current[part]

            try:
                current[tail] = value
            except TypeError:
                raise TypeError(
                    f"Cannot set {tail!r} from the environment variable"
                    f" {env_key!r}: the enclosing value is a"
                    f" {type(current).__name__}, not a dict. Rename the variable"
                    " or make the enclosing configuration value a dict."
                ) from None

        return True

    def from_pyfile(
        self, filename: str | os.PathLike[str], silent: bool = False
    ) -> bool:
        """Execute a Python file and load its UPPERCASE names.

        The file runs as the body of a fresh module named ``config`` whose
        ``__file__`` is the resolved path, then :meth:`from_object` reads it.

        :param filename: Absolute, or relative to :attr:`root_path`.
        :param silent: Return ``False`` if the file does not exist (or is a
            directory) instead of raising.
        :return: ``True`` if the file was loaded.
        :raise OSError: If the file cannot be read; the message names the
            file, and ``errno``/``filename`` are kept.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path

        try:
            with open(path, mode="rb") as f:
                source = f.read()
        except OSError as e:
            if silent and e.errno in _PYFILE_MISSING:
                return False

            e.strerror = f"Could not load the configuration file ({e.strerror})"
            raise

        # NOTE: executing the file is the documented purpose of this method;
        # the path comes from the application, never from a request.
        exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Copy the UPPERCASE attributes of a module, class or object.

        A string is imported first with :func:`import_string`. A ``dict`` does
        not work here (its keys are not attributes); use :meth:`from_mapping`.

        :param obj: The object, or a dotted import path to it.
        :raise ImportError: If a dotted path cannot be imported.
        """
        if isinstance(obj, str):
            obj = import_string(obj)

        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[t.IO[t.Any]], Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` and pass the mapping to :meth:`from_mapping`.

        For example ``from_file("config.json", load=json.load)`` or
        ``from_file("config.toml", load=tomllib.load, text=False)``.

        :param filename: Absolute, or relative to :attr:`root_path`.
        :param load: Reads an open file and returns a mapping.
        :param silent: Return ``False`` if the file does not exist (or is a
            directory) instead of raising.
        :param text: Open the file in text mode, else binary.
        :return: ``True`` if the file was loaded.
        :raise OSError: If the file cannot be read.
        """
        path = os.path.join(self.root_path, filename)

        try:
            with open(path, "r" if text else "rb") as f:
                obj = load(f)
        except OSError as e:
            if silent and e.errno in _FILE_MISSING:
                return False

            e.strerror = f"Could not load the configuration file ({e.strerror})"
            raise

        return self.from_mapping(obj)

    def from_mapping(
        self, mapping: Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Update the configuration like :meth:`dict.update`, keeping UPPERCASE keys.

        :return: Always ``True``.
        """
        items: dict[str, t.Any] = {}

        if mapping is not None:
            items.update(mapping)

        items.update(kwargs)

        for key, value in items.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"Configuration keys must be strings, got {key!r}"
                    f" (type {type(key).__name__}). Use UPPERCASE string keys."
                )

            if key.isupper():
                self[key] = value

        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """Return the values whose keys start with ``namespace``.

        ``get_namespace("IMAGE_STORE_")`` turns ``IMAGE_STORE_PATH`` into
        ``path``, ready to pass as keyword arguments.

        :param namespace: The key prefix, usually ending in ``_``.
        :param lowercase: Lowercase the resulting keys.
        :param trim_namespace: Strip the prefix from the resulting keys.
        """
        rv: dict[str, t.Any] = {}
        cut = len(namespace) if trim_namespace else 0

        for key, value in self.items():
            # NOTE: non-string keys (only settable through the dict API) never
            # belong to a namespace; Flask fails on them with AttributeError.
            if not isinstance(key, str) or not key.startswith(namespace):
                continue

            name = key[cut:]

            if lowercase:
                name = name.lower()

            rv[name] = value

        return rv

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
