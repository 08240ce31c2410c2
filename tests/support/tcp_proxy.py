"""A TCP proxy between the store and a server, with the faults of a server restart or a lost host.

``cut()`` drops every open connection and refuses new ones (the server went down), ``silence()``
accepts new connections but never answers them (the host stopped responding), and ``restore()``
forwards again on the same port (the server is back).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

BUFFER_BYTES = 65536
UPSTREAM_CONNECT_TIMEOUT_SECONDS = 5.0


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._clients: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._silent = False
        self.port = 0
        self._listen()

    @property
    def connections(self) -> int:
        """Open client connections (each forwarded one also holds an upstream socket)."""
        with self._lock:
            return len(self._clients)

    def cut(self) -> None:
        self._stop_listening()
        self._drop_all()

    def silence(self) -> None:
        self._drop_all()
        self._silent = True
        if self._listener is None:
            self._listen()

    def restore(self) -> None:
        self._drop_all()  # silenced connections were never answered; their clients time out anyway
        self._silent = False
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._stop_listening()
        self._drop_all()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped listening
            self._track(client, from_client=True)
            if not self._silent:
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=UPSTREAM_CONNECT_TIMEOUT_SECONDS)
        except OSError:
            self._close(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER_BYTES):
                destination.sendall(data)
        except OSError:
            pass
        self._close(source)
        self._close(destination)

    def _track(self, sock: socket.socket, from_client: bool = False) -> None:
        with self._lock:
            self._sockets.add(sock)
            if from_client:
                self._clients.add(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
            self._clients.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)


@contextmanager
def tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    try:
        yield proxy
    finally:
        proxy.close()
