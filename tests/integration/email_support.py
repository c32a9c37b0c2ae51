"""A real Dovecot IMAP server on loopback for the e-mail intake tests, with its own config, users and maildirs.

Debian's `dovecot-imapd` is used as installed (`.ci/run` installs it). Without it the tests skip with a line that
says how to get it, except under CI (`CI=true`), where a missing Dovecot fails them. The instance listens on free
unprivileged ports: plain IMAP (with STARTTLS) and implicit TLS, both with a self-signed certificate made here.
Each test gets its own user (`passwd-file` reloads on change), so one server serves a whole module.
"""

from __future__ import annotations

import contextlib
import getpass
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
INSTALL_HINT = "apt-get install -y dovecot-imapd"
# the capabilities Dovecot 2.3 announces after login; a test server may hide some (`imap_capability`)
CAPABILITIES = [
    "IMAP4rev1",
    "SASL-IR",
    "LOGIN-REFERRALS",
    "ID",
    "ENABLE",
    "IDLE",
    "SORT",
    "SORT=DISPLAY",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "THREAD=ORDEREDSUBJECT",
    "MULTIAPPEND",
    "URL-PARTIAL",
    "CATENATE",
    "UNSELECT",
    "CHILDREN",
    "NAMESPACE",
    "UIDPLUS",
    "LIST-EXTENDED",
    "I18NLEVEL=1",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "ESORT",
    "SEARCHRES",
    "WITHIN",
    "CONTEXT=SEARCH",
    "LIST-STATUS",
    "BINARY",
    "MOVE",
    "SNIPPET=FUZZY",
    "PREVIEW=FUZZY",
    "PREVIEW",
    "STATUS=SIZE",
    "SAVEDATE",
    "LITERAL+",
    "NOTIFY",
]


def require_dovecot() -> None:
    """Skips (developer machine) or fails (CI=true) when Dovecot is not installed."""
    if Path(DOVECOT).is_file():
        return
    message = f"Dovecot is not installed ({DOVECOT} missing): {INSTALL_HINT} (as root) to run the IMAP tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; .ci/run installs it on CI", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, valid for two days, with its key (made by `cryptography`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass(frozen=True)
class MailUser:
    """One test's mailbox account on the server."""

    username: str
    password: str


class Dovecot:
    """A Dovecot instance in its own directory; `stop` ends it and removes the directory."""

    def __init__(self, *, idle: bool = True, hide: tuple[str, ...] = (), users: int = 40) -> None:
        require_dovecot()
        # not under pytest's tmp_path: as root, Dovecot's unprivileged processes must reach the maildirs
        self.dir = Path(tempfile.mkdtemp(prefix="notifbot-dovecot-"))
        self.dir.chmod(0o755)
        self.plain_port, self.tls_port = _free_port(), _free_port()
        self.cert, self.key = _self_signed(self.dir)
        self.passwd = self.dir / "passwd"
        # every account up front: passwd-file notices a change by its mtime, too coarse for users added in a test
        self._accounts = [MailUser(f"user{n}", f"pw-{n}-secret") for n in range(1, users + 1)]
        self.passwd.write_text("".join(f"{u.username}:{{PLAIN}}{u.password}::::::\n" for u in self._accounts))
        self.mail = self.dir / "mail"
        self.mail.mkdir()
        if os.geteuid() == 0:
            internal, login, mail_uid = "dovecot", "dovenull", pwd.getpwnam("dovecot")
        else:
            me = getpass.getuser()
            internal, login, mail_uid = me, me, pwd.getpwuid(os.geteuid())
        os.chown(self.mail, mail_uid.pw_uid, mail_uid.pw_gid)
        self.uid, self.gid = mail_uid.pw_uid, mail_uid.pw_gid
        hidden = set(hide) | (set() if idle else {"IDLE"})
        shown = " ".join(c for c in CAPABILITIES if c not in hidden)
        capability = f"imap_capability = {shown}\n" if hidden else ""
        self.config = self.dir / "dovecot.conf"
        self.config.write_text(
            f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
instance_name = notifbot-test-{self.plain_port}
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login xoauth2
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {self.uid}
mail_location = maildir:{self.mail}/%u
mail_uid = {self.uid}
mail_gid = {self.gid}
{capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.plain_port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
"""
        )
        self.passwd.chmod(0o644)
        errors = self.dir / "start-errors.txt"
        with errors.open("wb") as err:  # not a pipe: the daemon keeps its inherited descriptors open
            code = subprocess.run(
                [DOVECOT, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=err
            ).returncode
        if code != 0:
            raise RuntimeError(f"dovecot did not start: {errors.read_text()}{self.log()}")
        self._wait_listening()

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.tls_port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot is not listening: {self.log()}") from None
                time.sleep(0.02)

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stops the instance and removes its directory."""
        try:
            pid = int((self.dir / "run" / "master.pid").read_text())
        except (OSError, ValueError):
            pid = None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while _running(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def add_user(self) -> MailUser:
        """An account not used before, with an empty INBOX."""
        return self._accounts.pop(0)

    def client(self, user: MailUser) -> IMAPClient:
        """A logged-in client over implicit TLS (trusting the test certificate), for setting up and checking."""
        client = IMAPClient(
            "127.0.0.1", port=self.tls_port, ssl=True, ssl_context=self.ssl_context(), timeout=10
        )
        client.login(user.username, user.password)
        return client

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts only this server's certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    @contextlib.contextmanager
    def session(self, user: MailUser) -> Iterator[IMAPClient]:
        """A client for a `with` block, logged out at its end."""
        client = self.client(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, user: MailUser, *messages: bytes, folder: str = "INBOX") -> None:
        """Delivers raw messages into `folder` (IMAP APPEND)."""
        with self.session(user) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for raw in messages:
                c.append(folder, raw)

    def uids(self, user: MailUser, folder: str) -> list[int]:
        """The UIDs in `folder` (empty when it does not exist)."""
        with self.session(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(c.search("ALL"))

    def subjects(self, user: MailUser, folder: str) -> list[str]:
        """The subjects of the messages in `folder`, by UID."""
        with self.session(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            fetched = c.fetch(c.search("ALL"), ["ENVELOPE"])
            return [fetched[u][b"ENVELOPE"].subject.decode() for u in sorted(fetched)]

    def uidvalidity(self, user: MailUser, folder: str = "INBOX") -> int:
        """The folder's current UIDVALIDITY."""
        with self.session(user) as c:
            return int(c.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self, user: MailUser, folder: str, *messages: bytes) -> None:
        """Deletes and recreates `folder` (not INBOX, which cannot be deleted) with `messages`: a new UIDVALIDITY."""
        with self.session(user) as c:
            c.delete_folder(folder)
            c.create_folder(folder)
            for raw in messages:
                c.append(folder, raw)


class IdleRefusingProxy:
    """A plain-IMAP relay to `port` on loopback that answers every IDLE with BAD instead of passing it on
    (while `refusing`; then IDLE passes and is counted in `passed`)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.refused = 0
        self.refusing = True
        self.passed = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target))
                threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True).start()
                threading.Thread(target=self._requests, args=(conn, upstream), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError), src, dst:
            while data := src.recv(65536):
                dst.sendall(data)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        """Client lines to the server, except IDLE (IMAPClient sends each command line in one write)."""
        with contextlib.suppress(OSError), client, upstream:
            while data := client.recv(65536):
                words = data.split()
                if len(words) == 2 and words[1].upper() == b"IDLE":
                    if not self.refusing:
                        self.passed += 1
                    else:
                        self.refused += 1
                        client.sendall(words[0] + b" BAD IDLE is not allowed here\r\n")
                        continue
                upstream.sendall(data)

    def stop(self) -> None:
        """Stops accepting connections (open ones end with the test's server)."""
        self._listener.close()


def mail(
    subject: str,
    body: str | None = "Something happened in Marketo.",
    *,
    sender: str = "noreply@marketo.com",
    to: str = "marketo-alerts@example.com",
    html: str | None = None,
    message_id: str | None = None,
    attachment: bytes | None = None,
) -> bytes:
    """A notification e-mail as Marketo might send it (synthetic)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.marketo.test")
    if body is not None:
        msg.set_content(body)
    if html is not None and body is None:
        msg.set_content(html, subtype="html")
    elif html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="leads.csv")
    return msg.as_bytes()
