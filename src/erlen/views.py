"""Class-based views: ``View`` and the per-method ``MethodView``."""

from __future__ import annotations

import typing as t

from .globals import current_app
from .globals import request

if t.TYPE_CHECKING:  # pragma: no cover
    from .scaffold import RouteCallable

#: The lowercase method names :class:`MethodView` dispatches to.
http_method_funcs = frozenset(
    ["get", "post", "head", "options", "delete", "put", "trace", "patch"]
)


class View:
    """Subclass and implement :meth:`dispatch_request` for a class-based view.

    :meth:`as_view` turns the class into a view function for
    ``add_url_rule``; URL variables arrive as keyword arguments.

    .. code-block:: python

        class Hello(View):
            def dispatch_request(self, name):
                return f"Hello, {name}!"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))
    """

    #: The methods the view is registered for; ``None`` means the
    #: ``add_url_rule`` default (``GET``, with ``HEAD`` and ``OPTIONS``).
    methods: t.ClassVar[t.Collection[str] | None] = None

    #: Whether ``OPTIONS`` is answered automatically; ``None`` means the
    #: ``add_url_rule`` default.
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, in order, to the function :meth:`as_view` makes;
    #: the first one listed ends up innermost. Decorating the class itself
    #: does not affect the view function.
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []

    #: Make a new instance for every request. Set to ``False`` to build one
    #: instance in :meth:`as_view` and reuse it; keep per-request data on
    #: ``g`` then, not on ``self``.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> t.Any:
        """Handle the request and return a response value; subclasses implement it."""
        raise NotImplementedError

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> RouteCallable:
        """Return a view function that runs this class's :meth:`dispatch_request`.

        :param name: the view function's ``__name__``, hence the default
            endpoint.
        :param class_args: positional arguments for the class constructor.
        :param class_kwargs: keyword arguments for the class constructor.

        The function carries ``view_class`` (replaceable, e.g. in tests),
        ``methods`` and ``provide_automatic_options`` from the class.
        """
        view: t.Any
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> t.Any:
                # Read ``view_class`` from the function so a test can swap it.
                self = view.view_class(*class_args, **class_kwargs)
                return current_app.ensure_sync(self.dispatch_request)(**kwargs)

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> t.Any:
                return current_app.ensure_sync(instance.dispatch_request)(**kwargs)

        if cls.decorators:
            # Decorators that copy metadata (functools.wraps) see the final
            # name and module.
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        view.view_class = cls
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods
        view.provide_automatic_options = cls.provide_automatic_options
        return t.cast("RouteCallable", view)


class MethodView(View):
    """Dispatch each request to the method named after the HTTP method.

    ``get`` handles ``GET``, ``post`` handles ``POST``, and so on; ``HEAD``
    falls back to ``get``. :attr:`methods` is collected from the handlers a
    subclass defines or inherits, unless it sets ``methods`` itself.

    .. code-block:: python

        class Counter(MethodView):
            def get(self):
                return str(session.get("n", 0))

            def post(self):
                session["n"] = session.get("n", 0) + 1
                return redirect(url_for("counter"))

        app.add_url_rule("/counter", view_func=Counter.as_view("counter"))
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        methods: set[str] = set()
        for base in cls.__bases__:
            base_methods = getattr(base, "methods", None)
            if base_methods:
                methods.update(base_methods)
        for key in http_method_funcs:
            if hasattr(cls, key):
                methods.add(key.upper())
        if methods:
            cls.methods = methods

    def dispatch_request(self, **kwargs: t.Any) -> t.Any:
        """Call the handler for the request's method with the URL values.

        :raises AssertionError: when no handler exists for the method (as in
            Flask); the view's ``methods`` normally prevent that with a 405.
        """
        method = request.method
        meth = getattr(self, method.lower(), None)
        if meth is None and method == "HEAD":
            meth = getattr(self, "get", None)
        if meth is None:
            raise AssertionError(
                f"Unimplemented method {method!r}: {type(self).__name__} has no"
                f" '{method.lower()}' handler. Define one, or leave the method"
                " out of 'methods' so the router answers 405."
            )
        return current_app.ensure_sync(meth)(**kwargs)
