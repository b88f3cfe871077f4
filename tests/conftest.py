"""Shared fixtures: an isolated data cache / results folder, and a loopback HTTP file server."""
from __future__ import annotations

import http.server
import threading

import matplotlib
import pytest

matplotlib.use("Agg")


def sentiment140_row(polarity, tweet: str) -> bytes:
    """One row of the official Sentiment140 CSVs: six quoted fields, latin-1, CRLF."""
    return f'"{polarity}","1","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","user","{tweet}"\r\n'.encode("latin-1")


@pytest.fixture
def fake_sentiment140(tmp_path, monkeypatch):
    """A stand-in for trainingandtestdata.zip (the real one is 81 MB and checksummed): call it with the training and
    the manual-test CSV bytes; `text.fetch` then returns that archive as the official copy. Returns the archive."""
    import zipfile

    from helpers import data, text

    def install(train_csv: bytes, manual_csv: bytes):
        archive = tmp_path / "trainingandtestdata.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("training.1600000.processed.noemoticon.csv", train_csv)
            zf.writestr("testdata.manual.2009.06.14.csv", manual_csv)
        spec = data.get_spec("sentiment140")
        fake = data.Fetched(spec, spec.official_copy(), {"trainingandtestdata.zip": archive})
        monkeypatch.setattr(text, "fetch", lambda name, verbose=True: fake)
        return archive

    return install


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty DATA_DIR, no DATA_MIRROR, no DATA_OFFLINE, results into tmp: returns tmp_path."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATA_MIRROR", raising=False)
    monkeypatch.delenv("DATA_OFFLINE", raising=False)
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


class FileServer:
    """Serves `files` {path: bytes} on 127.0.0.1; honours Range unless `ignore_range`;
    `cut_after` {path: n} sends only n bytes of the first request for that path, then hangs up."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut_after: dict[str, int] = {}
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and not server.ignore_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                cut = server.cut_after.pop(self.path, None)
                self.wfile.write(body[start:cut] if cut is not None else body[start:])
                if cut is not None:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    with FileServer() as server:
        yield server
