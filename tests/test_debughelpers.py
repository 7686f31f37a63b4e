from __future__ import annotations

import pytest

import erlen
from erlen.debughelpers import attach_enctype_error_multidict
from erlen.debughelpers import DebugFilesKeyError
from erlen.debughelpers import FormDataRoutingRedirect
from erlen.debughelpers import UnexpectedUnicodeError
from erlen.exceptions import RequestRedirect


def test_unexpected_unicode_error_types() -> None:
    assert issubclass(UnexpectedUnicodeError, AssertionError)
    assert issubclass(UnexpectedUnicodeError, UnicodeError)


def test_debug_files_key_error(app: erlen.Flask) -> None:
    with app.test_request_context(method="POST", data={"upload": "name.txt"}):
        request = erlen.request._get_current_object()  # type: ignore[attr-defined]
        attach_enctype_error_multidict(request)
        assert type(request.files).__name__ == "ImmutableMultiDict"
        with pytest.raises(DebugFilesKeyError) as info:
            request.files["upload"]
        message = str(info.value)
        assert "'upload'" in message
        assert "'application/x-www-form-urlencoded'" in message
        assert "'name.txt'" in message
        assert isinstance(info.value, KeyError)
        # A key that is not in the form either: the plain error.
        with pytest.raises(KeyError) as plain:
            request.files["other"]
        assert not isinstance(plain.value, DebugFilesKeyError)


def test_debug_files_key_error_without_form_value(app: erlen.Flask) -> None:
    with app.test_request_context(method="POST", data={"upload": ""}) as ctx:
        ctx.request.form  # noqa: B018
        error = DebugFilesKeyError(ctx.request, "missing")
    assert "browser instead transmitted" not in str(error)


def test_form_data_routing_redirect(app: erlen.Flask) -> None:
    with app.test_request_context("/x", method="POST") as ctx:
        ctx.request.routing_exception = RequestRedirect("http://localhost/x/?a=1")
        message = str(FormDataRoutingRedirect(ctx.request))
        assert "'http://localhost/x'" in message
        assert "trailing slash" in message
        ctx.request.routing_exception = RequestRedirect("http://localhost/y")
        message = str(FormDataRoutingRedirect(ctx.request))
        assert "trailing slash" not in message
        assert "307 or 308" in message
