from __future__ import annotations

import datetime
import io
import typing as t
import uuid

import pytest

import erlen
from erlen import json as ejson
from erlen.json.provider import DefaultJSONProvider


class _LoudProvider(DefaultJSONProvider):
    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return "LOUD:" + super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return {"loud": super().loads(s, **kwargs)}


def test_functions_without_app() -> None:
    value = {"when": datetime.date(2024, 1, 2), "id": uuid.UUID(int=1)}
    text = ejson.dumps(value)
    assert "Tue, 02 Jan 2024 00:00:00 GMT" in text
    assert "00000000-0000-0000-0000-000000000001" in text
    assert ejson.loads(text)["id"] == "00000000-0000-0000-0000-000000000001"
    assert ejson.loads(b"[1]") == [1]
    out = io.StringIO()
    ejson.dump({"a": 1}, out)
    assert ejson.load(io.StringIO(out.getvalue())) == {"a": 1}
    with pytest.raises(TypeError):
        ejson.dumps(object())
    # A caller's default wins.
    assert ejson.dumps(object(), default=lambda o: "custom") == '"custom"'
    with pytest.raises(RuntimeError, match="jsonify\\(\\) needs an application"):
        ejson.jsonify(1)


def test_functions_follow_app_provider(app: erlen.Flask) -> None:
    app.json = _LoudProvider(app)
    with app.app_context():
        assert ejson.dumps([1]) == "LOUD:[1]"
        assert ejson.loads("[1]") == {"loud": [1]}
        out = io.StringIO()
        ejson.dump([2], out)
        assert out.getvalue() == "LOUD:[2]"
        assert ejson.load(io.StringIO("[3]")) == {"loud": [3]}


def test_jsonify(app: erlen.Flask) -> None:
    with app.app_context():
        assert ejson.jsonify(1, 2).get_json() == [1, 2]
        assert ejson.jsonify([1]).get_json() == [1]
        assert ejson.jsonify(a=1).get_json() == {"a": 1}
        response = erlen.jsonify({"b": 2})
        assert response.mimetype == "application/json"
        assert isinstance(response, erlen.Response)


def test_request_get_json_follows_app_provider(app: erlen.Flask) -> None:
    # As in Flask, Request.json_module is the json module of the package:
    # the current app's provider parses, and stdlib json outside a context.
    app.json = _LoudProvider(app)
    assert erlen.Request.json_module is ejson
    with app.test_request_context(
        method="POST", data=b"[1]", content_type="application/json"
    ) as ctx:
        assert erlen.request.get_json() == {"loud": [1]}
        outside = erlen.Request(dict(ctx.request.environ))
    outside.environ["wsgi.input"] = io.BytesIO(b"[2]")
    assert outside.get_json() == [2]
