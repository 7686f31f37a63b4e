"""Typed usage examples of erlen's public API, checked by mypy (not by pytest)."""

from __future__ import annotations

from erlen import Flask
from erlen import request
from erlen.datastructures import Headers
from erlen.datastructures import MultiDict
from erlen.routing import Map
from erlen.routing import Rule
from erlen.sansio.response import Response
from erlen.typing import ResponseReturnValue

app = Flask(__name__)


@app.route("/")
def index() -> str:
    name: str | None = request.args.get("name")
    page: int | None = request.args.get("page", type=int)
    return f"{name} {page}"


@app.get("/json")
def as_json() -> dict[str, int]:
    return {"a": 1}


args: MultiDict[str, str] = MultiDict([("a", "1"), ("a", "2")])
values: list[str] = args.getlist("a")
headers = Headers([("X-A", "1")])
first: str | None = headers.get("x-a")
url_map = Map([Rule("/user/<int:id>", endpoint="user")])
endpoint, view_args = url_map.bind("example.com").match("/user/3")
response = Response("hello", status=201, mimetype="text/plain")
status: int = response.status_code


@app.route("/typed")
def typed() -> ResponseReturnValue:
    return "ok", 201, {"X-A": "1"}
