"""A real HTTP receiver for webhook tests: http.server in a thread on 127.0.0.1."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every POST; answers with `status` (or the next of `script`, then `status`)."""

    def __init__(self, port: int = 0):
        self.requests: list[dict] = []
        self.status = 204
        self.script: list[int] = []
        self.lock = threading.Lock()
        self._server = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.status
                    receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "status": status,
                                              "body": body.decode(), "at": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: connections are refused until start() again (same port)."""
        self._server.shutdown()
        self._server.server_close()

    def received(self, status_ok: bool = True) -> list[dict]:
        """Events taken (2xx answers), decoded, in arrival order."""
        with self.lock:
            return [dict(json.loads(r["body"]), _headers=r["headers"]) for r in self.requests
                    if not status_ok or 200 <= r["status"] < 300]
