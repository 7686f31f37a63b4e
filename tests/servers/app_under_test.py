"""One erlen app, served by every server in tests/servers (WSGI and ASGI)."""

from __future__ import annotations

import asyncio
import os
import time

from erlen import Flask
from erlen import g
from erlen import jsonify
from erlen import request
from erlen import session
from erlen import stream_with_context

app = Flask(__name__)
# A fixed key: the tests sign per-request session cookies with it.
app.secret_key = "erlen-servers-test-key"


@app.before_request
def remember_request_id() -> None:
    # Sync hook: under ASGI it runs in a worker thread, under gthread in the
    # request's thread; either way g must be this request's own.
    g.rid = request.args.get("id")


@app.get("/")
def index() -> str:
    return "hello from erlen"


@app.get("/pid")
def pid() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "protocol": "asgi" if "asgi.scope" in request.environ else "wsgi",
    }


@app.post("/json")
def echo_json() -> object:
    data = request.get_json()
    return jsonify(received=data, content_type=request.mimetype)


@app.post("/upload")
def upload() -> dict[str, object]:
    upload = request.files["file"]
    content = upload.read()
    return {
        "title": request.form["title"],
        "filename": upload.filename,
        "mimetype": upload.mimetype,
        "size": len(content),
        "text": content.decode("utf-8"),
    }


@app.get("/session/set")
def session_set() -> str:
    session["value"] = request.args["value"]
    return "stored"


@app.get("/session/get")
def session_get() -> dict[str, object]:
    return {"value": session.get("value")}


@app.get("/async")
async def async_view() -> dict[str, object]:
    await asyncio.sleep(0.01)
    return {"async": True, "id": request.args.get("id"), "g": g.rid}


@app.get("/slow")
async def slow() -> dict[str, object]:
    # Each of many concurrent requests must see its own request, g and session.
    await asyncio.sleep(float(request.args.get("delay", "0.5")))
    return {"id": request.args["id"], "g": g.rid, "session": session.get("value")}


@app.get("/echo")
def echo() -> dict[str, object]:
    rid = request.args["id"]
    # A short pause lets other threads run in between the reads below.
    time.sleep(0.001)
    return {
        "id": rid,
        "g": g.rid,
        "session": session.get("value"),
        "again": request.args["id"],
    }


@app.route("/inspect/<path:rest>", methods=["GET", "POST"])
def inspect_request(rest: str) -> dict[str, object]:
    return {
        "rest": rest,
        "path": request.path,
        "args": request.args.to_dict(flat=False),
        "url": request.url,
        "host": request.host,
        "scheme": request.scheme,
        "remote_addr": request.remote_addr,
        "method": request.method,
        "x_custom": ", ".join(request.headers.getlist("X-Custom")),
        "data": request.get_data(as_text=True),
        "form": request.form.to_dict(flat=False),
    }


@app.post("/empty")
def empty() -> tuple[str, int, dict[str, str]]:
    return "", 204, {"X-Done": "yes"}


@app.get("/stream")
def stream() -> object:
    count = int(request.args.get("n", "5"))

    @stream_with_context
    def generate() -> object:
        # Reading the request inside the generator needs stream_with_context.
        for i in range(count):
            yield f"{request.args['id']}:{i}\n"

    return app.response_class(generate(), mimetype="text/plain")


#: What became of each slow stream, by request id: "finished" or "closed"
#: (the client went away and the server closed the body). One worker process
#: per server, so the status request sees the streaming request's state.
STREAMS: dict[str, str] = {}
TEARDOWNS: set[str] = set()


@app.teardown_request
def note_teardown(exc: BaseException | None) -> None:
    rid = request.args.get("id", "")
    if rid.startswith("slow-"):
        TEARDOWNS.add(rid)


@app.get("/stream/slow")
def stream_slow() -> object:
    rid = request.args["id"]
    ticks = int(request.args.get("ticks", "300"))

    @stream_with_context
    def generate() -> object:
        try:
            yield f"first {request.args['id']}\n"
            for _ in range(ticks):  # bounded: at most ticks * 20 ms
                time.sleep(0.02)
                yield "tick\n"
            STREAMS[rid] = "finished"
        except GeneratorExit:
            STREAMS[rid] = "closed"
            raise

    return app.response_class(generate(), mimetype="text/plain")


@app.get("/stream/async-slow")
def stream_async_slow() -> object:
    rid = request.args["id"]
    ticks = int(request.args.get("ticks", "300"))

    async def generate() -> object:
        try:
            yield f"first {request.args['id']}\n"
            for _ in range(ticks):
                await asyncio.sleep(0.02)
                yield "tick\n"
            STREAMS[rid] = "finished"
        except GeneratorExit:
            STREAMS[rid] = "closed"
            raise

    return app.response_class(stream_with_context(generate()), mimetype="text/plain")


@app.get("/stream/state")
def stream_state() -> dict[str, object]:
    rid = request.args["of"]
    return {"stream": STREAMS.get(rid), "teardown": rid in TEARDOWNS}
