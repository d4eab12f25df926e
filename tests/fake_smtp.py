"""Just enough SMTP on loopback for the e-mail action's tests (test_actions, test_secrets_more)."""

import contextlib
import socketserver
import threading


class FakeSMTP(socketserver.StreamRequestHandler):
    """Receives messages; with ``tls`` (an ``ssl.SSLContext``) it offers STARTTLS, or with ``implicit`` speaks TLS
    from the first byte (SMTPS). It offers the AUTH mechanisms ``auth``; with ``refuse_auth`` it rejects every
    login with a reply that echoes what the client sent (base64 credentials), as some servers do."""

    received: list = []
    logins: list = []
    tls = None
    implicit = False
    auth = b"PLAIN"
    refuse_auth = False

    def _secure(self):
        self.request = self.tls.wrap_socket(self.request, server_side=True)
        self.rfile, self.wfile = self.request.makefile("rb"), self.request.makefile("wb", buffering=0)

    def _login(self, line: bytes) -> None:
        sent = [line.decode().strip()]
        if line.split()[1:2] == [b"LOGIN"]:  # user in the AUTH line, then the password on its own line
            self.wfile.write(b"334 UGFzc3dvcmQ6\r\n")
            sent.append(self.rfile.readline().decode().strip())
        FakeSMTP.logins.append(" ".join(sent))
        if self.refuse_auth:
            self.wfile.write(f"535 5.7.8 authentication failed for {' / '.join(sent)}\r\n".encode())
        else:
            self.wfile.write(b"235 ok\r\n")

    def handle(self):
        if self.implicit:
            try:
                self._secure()
            except OSError:  # the client refused our certificate
                return
        self.wfile.write(b"220 fake ESMTP\r\n")
        data_mode, lines = False, []
        while line := self.rfile.readline():
            if data_mode:
                if line == b".\r\n":
                    FakeSMTP.received.append(b"".join(lines).decode())
                    data_mode = False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                offers = b"250-STARTTLS\r\n" if self.tls and not self.implicit else b""
                self.wfile.write(b"250-fake\r\n" + offers + b"250 AUTH " + self.auth + b"\r\n")
            elif line.upper().startswith(b"STARTTLS"):
                self.wfile.write(b"220 go ahead\r\n")
                try:
                    self._secure()
                except OSError:  # the client refused our certificate
                    return
            elif verb == b"AUTH":
                self._login(line)
            elif verb == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@contextlib.contextmanager
def fake_smtp_server():
    """A :class:`FakeSMTP` server on loopback, its class settings reset; yields its port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeSMTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeSMTP.received, FakeSMTP.logins, FakeSMTP.tls, FakeSMTP.implicit = [], [], None, False
    FakeSMTP.auth, FakeSMTP.refuse_auth = b"PLAIN", False
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
