"""A minimal SMTP server for tests: speaks enough of RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA,
RSET, NOOP, QUIT) for ``smtplib`` to deliver to it, and keeps what it receives in memory."""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str  # "user:password" from AUTH PLAIN, "" when the client did not log in


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 test-smtp ready")
        sender, recipients, login = "", [], ""
        for raw in self.rfile:
            command, _, argument = raw.decode().rstrip("\r\n").partition(" ")
            verb = command.upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-test-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME" if verb == "EHLO" else "250 test-smtp")
            elif verb == "AUTH":
                _, authzid_user_password = argument.split(" ", 1)
                _, user, password = base64.b64decode(authzid_user_password).decode().split("\0")
                login = f"{user}:{password}"
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                sender, recipients = argument.partition(":")[2].strip("<> "), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(argument.partition(":")[2].strip("<> "))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self._store(Received(sender, recipients, self._read_data(), login))
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> EmailMessage:
        lines = []
        for raw in self.rfile:
            if raw in (b".\r\n", b".\n"):
                break
            lines.append(raw[1:] if raw.startswith(b"..") else raw)
        return message_from_bytes(b"".join(lines), policy=policy.default)

    def _store(self, received: Received) -> None:
        with self.server.mailbox.lock:
            self.server.mailbox.messages.append(received)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.mailbox = Mailbox()


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """Serve on a free local port; yields (port, mailbox) and stops afterwards."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.mailbox
    finally:
        server.shutdown()
        server.server_close()
