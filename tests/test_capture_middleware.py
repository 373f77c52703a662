"""Capture middleware on real servers: FastAPI under uvicorn, Flask under werkzeug, httpx."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from flask import Flask
from flask import Response as FlaskResponse
from flask import request as flask_request
from werkzeug.serving import make_server

from vigil.capture import CaptureMiddleware, CaptureWriter, WSGICaptureMiddleware
from vigil.formats import CaptureRecord

NPY = b"\x93NUMPY\x01\x00v\x00\xff\xfe"


def captured(root: Path) -> dict[str, CaptureRecord]:
    """Records by inference id (or by input data when there is none)."""
    out = {}
    for path in sorted(root.rglob("*.jsonl")):
        assert path.relative_to(root).parts[:2] == ("model", "AllTraffic")
        for line in path.read_text().splitlines():
            rec = CaptureRecord.loads(line, source=str(path))
            key = rec.event_metadata.inference_id or rec.capture_data.endpoint_input.data
            out[key] = rec
    return out


# -- ASGI: FastAPI + uvicorn -----------------------------------------------------------------


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-type") == "application/x-npy":
            return Response(body[::-1], media_type="application/x-npy")
        if body == b"boom":
            return Response("bad input", status_code=400, media_type="text/plain")
        total = sum(float(v) for v in body.decode().split(","))
        return Response(f"{total}", media_type="text/csv")

    @app.post("/predict/{name}")
    async def predict(name: str, request: Request) -> StreamingResponse:
        payload = await request.json()

        async def chunks():
            yield b'{"model": "' + name.encode() + b'", '
            yield b'"predictions": ' + orjson.dumps([x * 2 for x in payload["instances"]])
            yield b"}"

        return StreamingResponse(chunks(), media_type="application/json")

    @app.post("/other")
    async def other(request: Request) -> Response:
        return Response(await request.body(), media_type="text/csv")

    return app


@pytest.fixture
def uvicorn_server():
    """Start an ASGI app under uvicorn on 127.0.0.1 (a free port); yields a starter."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def test_asgi_fastapi_under_uvicorn(tmp_path: Path, uvicorn_server) -> None:
    writer = CaptureWriter("model", destination=tmp_path)
    app = fastapi_app()
    app.add_middleware(CaptureMiddleware, writer=writer, routes=("/invocations", "/predict/*"))
    base = uvicorn_server(app)
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/invocations", content=b"1,2,3.5",
                        headers={"Content-Type": "text/csv", "X-Inference-Id": "inv-1",
                                 "X-Custom-Attributes": "tenant=a,trace=7"})
        assert (r.status_code, r.text) == (200, "6.5")
        r = client.post("/invocations", content=NPY,
                        headers={"Content-Type": "application/x-npy", "X-Inference-Id": "npy"})
        assert r.content == NPY[::-1]
        with client.stream("POST", "/predict/churn", json={"instances": [1, 2.5]},
                           headers={"X-Inference-Id": "stream"}) as r:
            streamed = b"".join(r.iter_raw())
        assert orjson.loads(streamed) == {"model": "churn", "predictions": [2, 5.0]}
        r = client.post("/invocations", content=b"boom",
                        headers={"Content-Type": "text/csv", "X-Inference-Id": "err"})
        assert r.status_code == 400
        assert client.post("/other", content=b"9,9", headers={"X-Inference-Id": "x"}).text == "9,9"
        assert client.post("/predict", content=b"{}").status_code in (404, 405)
    writer.close()
    got = captured(tmp_path)
    assert set(got) == {"inv-1", "npy", "stream"}  # not the error, not /other, not /predict

    inv = got["inv-1"]
    assert inv.capture_data.endpoint_input.model_dump(by_alias=True) == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3.5", "encoding": "CSV"}
    assert inv.capture_data.endpoint_output.data == "6.5"
    assert inv.capture_data.endpoint_output.observed_content_type.startswith("text/csv")
    assert inv.event_metadata.custom_attributes == ["tenant=a,trace=7"]

    npy = got["npy"]
    assert npy.capture_data.endpoint_input.encoding == "BASE64"
    assert base64.b64decode(npy.capture_data.endpoint_input.data) == NPY
    assert base64.b64decode(npy.capture_data.endpoint_output.data) == NPY[::-1]
    assert npy.event_metadata.custom_attributes is None

    stream = got["stream"]
    assert stream.capture_data.endpoint_input.encoding == "JSON"
    assert orjson.loads(stream.capture_data.endpoint_input.data) == {"instances": [1, 2.5]}
    assert stream.capture_data.endpoint_output.encoding == "JSON"
    assert stream.capture_data.endpoint_output.data.encode() == streamed
    assert writer.stats.written == 3


def test_asgi_custom_headers_and_errors_captured(tmp_path: Path, uvicorn_server) -> None:
    writer = CaptureWriter("model", destination=tmp_path)
    app = CaptureMiddleware(
        fastapi_app(), writer, routes=("/invocations",),
        inference_id_header="X-Amzn-SageMaker-Inference-Id",
        custom_attributes_header="X-Amzn-SageMaker-Custom-Attributes", capture_errors=True)
    base = uvicorn_server(app)
    with httpx.Client(base_url=base, timeout=10) as client:
        client.post("/invocations", content=b"1,1", headers={
            "Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": "sm-1",
            "X-Amzn-SageMaker-Custom-Attributes": "c000_x=1", "X-Inference-Id": "ignored"})
        client.post("/invocations", content=b"boom", headers={
            "Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": "sm-err"})
    writer.close()
    got = captured(tmp_path)
    assert set(got) == {"sm-1", "sm-err"}
    assert got["sm-1"].event_metadata.custom_attributes == ["c000_x=1"]
    err = got["sm-err"].capture_data.endpoint_output
    assert err.encoding == "BASE64"  # text/plain is neither a CSV nor a JSON content type
    assert base64.b64decode(err.data) == b"bad input"


# -- WSGI: Flask + werkzeug ------------------------------------------------------------------


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.post("/invocations")
    def invocations():
        body = flask_request.get_data()
        return FlaskResponse(f"{sum(float(v) for v in body.decode().split(','))}",
                             mimetype="text/csv")

    @app.post("/predict/<name>")
    def predict(name: str):
        payload = flask_request.get_json()

        def chunks() -> Iterator[bytes]:
            yield b'{"model": "' + name.encode() + b'", '
            yield b'"predictions": ' + orjson.dumps([x * 2 for x in payload["instances"]])
            yield b"}"

        return FlaskResponse(chunks(), mimetype="application/json")

    @app.post("/echo")
    def echo():
        return FlaskResponse(flask_request.get_data(), mimetype="application/x-npy")

    return app


@pytest.fixture
def werkzeug_server():
    servers = []

    def start(wsgi_app) -> str:
        server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)


def test_wsgi_flask_under_werkzeug(tmp_path: Path, werkzeug_server) -> None:
    writer = CaptureWriter("model", destination=tmp_path)
    app = flask_app()
    app.wsgi_app = WSGICaptureMiddleware(app.wsgi_app, writer,  # type: ignore[method-assign]
                                         routes=("/invocations", "/predict/*"))
    base = werkzeug_server(app)

    def chunked_body() -> Iterator[bytes]:
        yield b"4,"
        yield b"5"

    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/invocations", content=b"1,2,3.5",
                        headers={"Content-Type": "text/csv", "X-Inference-Id": "inv-1",
                                 "X-Custom-Attributes": "tenant=a"})
        assert (r.status_code, r.text) == (200, "6.5")
        r = client.post("/invocations", content=chunked_body(),
                        headers={"Content-Type": "text/csv", "X-Inference-Id": "chunked"})
        assert r.text == "9.0"  # the app still reads the whole body
        with client.stream("POST", "/predict/churn", json={"instances": [1, 2.5]},
                           headers={"X-Inference-Id": "stream"}) as r:
            streamed = b"".join(r.iter_raw())
        assert orjson.loads(streamed) == {"model": "churn", "predictions": [2, 5.0]}
        assert client.post("/echo", content=NPY, headers={"X-Inference-Id": "x"}).content == NPY
    writer.close()
    got = captured(tmp_path)
    assert set(got) == {"inv-1", "chunked", "stream"}
    inv = got["inv-1"]
    assert (inv.capture_data.endpoint_input.data, inv.capture_data.endpoint_input.encoding,
            inv.capture_data.endpoint_output.data) == ("1,2,3.5", "CSV", "6.5")
    assert inv.capture_data.endpoint_output.observed_content_type.startswith("text/csv")
    assert inv.event_metadata.custom_attributes == ["tenant=a"]
    assert got["chunked"].capture_data.endpoint_input.data == "4,5"
    stream = got["stream"]
    assert stream.capture_data.endpoint_input.encoding == "JSON"
    assert orjson.loads(stream.capture_data.endpoint_input.data) == {"instances": [1, 2.5]}
    assert stream.capture_data.endpoint_output.data.encode() == streamed
    assert stream.event_metadata.custom_attributes is None


def test_wsgi_binary_route_with_flask_test_client(tmp_path: Path) -> None:
    writer = CaptureWriter("model", destination=tmp_path)
    app = flask_app()
    app.wsgi_app = WSGICaptureMiddleware(app.wsgi_app, writer,  # type: ignore[method-assign]
                                         routes=("/echo",), inference_id_header="X-Req")
    client = app.test_client()
    r = client.post("/echo", data=NPY, headers={"Content-Type": "application/x-npy",
                                                 "X-Req": "bin"})
    assert r.data == NPY
    writer.close()
    rec = captured(tmp_path)["bin"]
    assert rec.capture_data.endpoint_input.encoding == "BASE64"
    assert base64.b64decode(rec.capture_data.endpoint_input.data) == NPY
    assert base64.b64decode(rec.capture_data.endpoint_output.data) == NPY
