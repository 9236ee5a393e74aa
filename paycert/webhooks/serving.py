"""A loopback HTTP server on a thread of its own that stops the moment it is told to.

`socketserver`'s `serve_forever` notices `shutdown()` only on its next poll (every 0.5 s by default), so every
stop of the webhook sink or the pact state relay waited out up to half a second. Here the loop also waits on
a socket pair, and `stop` writes one byte to it: the loop ends at once, between two requests.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading

_WAKE = "wake"


class ServerThread:
    """`ServerThread(server, name).start()` serves `server` until `stop()`; `stop` also closes the server."""

    def __init__(self, server: socketserver.TCPServer, name: str) -> None:
        self.server = server
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.server.fileno(), selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ, _WAKE)
            while True:  # ends when stop() writes to the wake socket (or closes it)
                for key, _ in selector.select():
                    if key.data == _WAKE:
                        return
                    # A connection is waiting, so this accepts it at once and hands it to the server's handler
                    # (a thread of its own for a ThreadingMixIn server), as serve_forever does.
                    self.server.handle_request()

    def stop(self, timeout: float = 5.0) -> None:
        """End the loop (requests being handled run to their end on their own threads) and close the server."""
        if self._thread.is_alive():
            self._wake_write.send(b"\0")
            self._thread.join(timeout)
        self.server.server_close()
        self._wake_read.close()
        self._wake_write.close()
