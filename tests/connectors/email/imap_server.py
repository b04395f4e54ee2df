"""An in-process IMAP4rev1 server for tests, standing in for a partner's mail server: a thread per
connection on 127.0.0.1 (a free port), mail kept in memory, optionally behind TLS or STARTTLS.

It implements the subset the connector uses, with the semantics a real server has where they matter:
LOGIN, CAPABILITY, STARTTLS, SELECT (UIDVALIDITY, PERMANENTFLAGS), LIST, CREATE, UID SEARCH
(UNSEEN/UNDELETED/ALL), UID FETCH (RFC822.SIZE, FLAGS, BODY.PEEK[], BODY.PEEK[HEADER], and BODY[],
which sets \\Seen as RFC 3501 says), UID STORE +/-FLAGS[.SILENT], UID MOVE, UID COPY, UID EXPUNGE,
EXPUNGE, NOOP, LOGOUT. MOVE and UIDPLUS can be switched off to exercise the client's fallbacks, and
every command is logged (a LOGIN's password masked) so tests can prove what the client did; a
command named in `hang_up_on` drops the connection instead of answering.
"""

from __future__ import annotations

import itertools
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy

USER = "orders@gateway.example"
PASSWORD = "imap-secret-4711"
SYSTEM_FLAGS = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"}


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)

    def attachment_names(self) -> list[str]:
        message = message_from_bytes(self.raw, policy=default_policy)
        return [name for part in message.walk() if (name := part.get_filename())]


@dataclass
class Folder:
    uidvalidity: int
    mails: list[StoredMail] = field(default_factory=list)
    next_uid: int = 1


class ImapState:
    """The server's mailboxes, shared by all connections."""

    def __init__(self, *, move: bool = True, uidplus: bool = True, keywords: bool = True) -> None:
        self.lock = threading.RLock()
        self.folders: dict[str, Folder] = {"INBOX": Folder(uidvalidity=1000)}
        self.passwords = {USER: PASSWORD}
        self.move, self.uidplus, self.keywords = move, uidplus, keywords
        self.commands: list[str] = []
        self.hang_up_on: set[str] = set()  # commands answered by dropping the connection
        self.logins = 0

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: set[str] | None = None) -> int:
        with self.lock:
            box = self.folders[folder]
            uid = box.next_uid
            box.next_uid += 1
            box.mails.append(StoredMail(uid, raw, set(flags or ())))
            return uid

    def mails(self, folder: str = "INBOX") -> list[StoredMail]:
        with self.lock:
            box = self.folders.get(folder)
            return list(box.mails) if box else []

    def unseen(self, folder: str = "INBOX") -> list[StoredMail]:
        return [m for m in self.mails(folder) if not m.flags & {"\\Seen", "\\Deleted"}]

    def renumber(self, folder: str = "INBOX") -> None:
        """What a server does after its index was rebuilt: new UIDVALIDITY, new UIDs."""
        with self.lock:
            box = self.folders[folder]
            box.uidvalidity += 1
            for mail in box.mails:
                mail.uid = box.next_uid
                box.next_uid += 1


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        if self.server.tls is not None:
            self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        super().setup()
        self.state = self.server.state
        self.user: str | None = None
        self.selected: str | None = None
        self.tls_active = self.server.tls is not None

    def send(self, data: bytes | str) -> None:
        self.wfile.write(data.encode() if isinstance(data, str) else data)
        self.wfile.flush()

    def handle(self) -> None:
        self.send("* OK fake IMAP4rev1 ready\r\n")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            tag, _, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = f"UID {sub.upper()}"
            shown = (
                f"{command} {args.split(' ')[0]} ***" if command == "LOGIN" else f"{command} {args}".strip()
            )
            with self.state.lock:
                self.state.commands.append(shown)
            if command in self.state.hang_up_on:
                return  # the connection breaks, as when a server restarts
            handler = getattr(self, "do_" + command.replace(" ", "_"), None)
            if handler is None:
                self.send(f"{tag} BAD unknown command {command}\r\n")
                continue
            try:
                answer = handler(_tokens(args))
            except (IndexError, ValueError, KeyError) as error:
                answer = f"BAD {error}"
            if answer is None:  # LOGOUT or STARTTLS handled the tagged answer
                if command == "LOGOUT":
                    self.send(f"{tag} OK bye\r\n")
                    return
                continue
            self.send(f"{tag} {answer}\r\n")
            if command == "STARTTLS" and answer.startswith("OK"):
                self._start_tls()

    # Commands ------------------------------------------------------------------------------------------

    def capabilities(self) -> str:
        words = ["IMAP4rev1", "LITERAL+"]
        if self.server.starttls is not None and not self.tls_active:
            words.append("STARTTLS")
        if self.state.move:
            words.append("MOVE")
        if self.state.uidplus:
            words.append("UIDPLUS")
        return " ".join(words)

    def do_CAPABILITY(self, _: list[str]) -> str:
        self.send(f"* CAPABILITY {self.capabilities()}\r\n")
        return "OK capability done"

    def do_NOOP(self, _: list[str]) -> str:
        return "OK noop"

    def do_STARTTLS(self, _: list[str]) -> str:
        if self.server.starttls is None or self.tls_active:
            return "BAD no STARTTLS here"
        return "OK begin TLS now"

    def _start_tls(self) -> None:
        assert self.server.starttls is not None
        self.wfile.flush()
        self.request = self.server.starttls.wrap_socket(self.request, server_side=True)
        self.rfile = self.request.makefile("rb")
        self.wfile = self.request.makefile("wb")
        self.tls_active = True

    def do_LOGIN(self, args: list[str]) -> str:
        user, password = args[0], args[1]
        if self.state.passwords.get(user) != password:
            return "NO [AUTHENTICATIONFAILED] invalid credentials"
        self.user = user
        with self.state.lock:
            self.state.logins += 1
        return "OK logged in"

    def do_LOGOUT(self, _: list[str]) -> None:
        self.send("* BYE logging out\r\n")
        return None

    def do_SELECT(self, args: list[str]) -> str:
        if self.user is None:
            return "NO log in first"
        with self.state.lock:
            box = self.state.folders.get(args[0])
            if box is None:
                return "NO [NONEXISTENT] no such mailbox"
            self.selected = args[0]
            self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
            self.send(f"* {len(box.mails)} EXISTS\r\n* 0 RECENT\r\n")
            self.send(f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid\r\n")
            self.send(f"* OK [UIDNEXT {box.next_uid}] next UID\r\n")
            permanent = "\\Seen \\Deleted \\Answered \\Flagged \\Draft" + (
                " \\*" if self.state.keywords else ""
            )
            self.send(f"* OK [PERMANENTFLAGS ({permanent})] flags\r\n")
        return "OK [READ-WRITE] selected"

    def do_LIST(self, args: list[str]) -> str:
        pattern = args[1]
        with self.state.lock:
            for name in self.state.folders:
                if pattern in ("*", name):
                    self.send(f'* LIST () "/" "{name}"\r\n')
        return "OK list done"

    def do_CREATE(self, args: list[str]) -> str:
        with self.state.lock:
            if args[0] in self.state.folders:
                return "NO [ALREADYEXISTS] mailbox exists"
            self.state.folders[args[0]] = Folder(uidvalidity=2000 + len(self.state.folders))
        return "OK created"

    def _box(self) -> Folder:
        if self.selected is None:
            raise ValueError("no mailbox selected")
        return self.state.folders[self.selected]

    def _matching(self, uid_set: str) -> list[tuple[int, StoredMail]]:
        box = self._box()
        wanted = _uid_set(uid_set, box.next_uid - 1)
        return [(n, mail) for n, mail in enumerate(box.mails, 1) if mail.uid in wanted]

    def do_UID_SEARCH(self, args: list[str]) -> str:
        criteria = {arg.upper() for arg in args}
        unknown = criteria - {"UNSEEN", "UNDELETED", "ALL"}
        if unknown:
            return f"BAD unsupported search {sorted(unknown)}"
        with self.state.lock:
            found = [
                mail.uid
                for mail in self._box().mails
                if not ("UNSEEN" in criteria and "\\Seen" in mail.flags)
                and not ("UNDELETED" in criteria and "\\Deleted" in mail.flags)
            ]
        self.send(("* SEARCH " + " ".join(map(str, found))).rstrip() + "\r\n")
        return "OK search done"

    def do_UID_FETCH(self, args: list[str]) -> str:
        items = args[1].strip("()").upper().split()
        with self.state.lock:
            for number, mail in self._matching(args[0]):
                parts = [f"UID {mail.uid}"]
                literal: bytes | None = None
                for item in items:
                    if item == "RFC822.SIZE":
                        parts.append(f"RFC822.SIZE {len(mail.raw)}")
                    elif item == "FLAGS":
                        parts.append(f"FLAGS ({' '.join(sorted(mail.flags))})")
                    elif item in ("BODY.PEEK[]", "BODY[]"):
                        literal, name = mail.raw, "BODY[]"
                        if item == "BODY[]":
                            mail.flags.add("\\Seen")
                    elif item == "BODY.PEEK[HEADER]":
                        literal, name = mail.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n", "BODY[HEADER]"
                    elif item != "UID":
                        return f"BAD unsupported fetch item {item}"
                if literal is None:
                    self.send(f"* {number} FETCH ({' '.join(parts)})\r\n")
                else:
                    head = f"* {number} FETCH ({' '.join(parts)} {name} {{{len(literal)}}}\r\n"
                    self.send(head.encode() + literal + b")\r\n")
        return "OK fetch done"

    def do_UID_STORE(self, args: list[str]) -> str:
        action, flags = args[1].upper(), set(args[2].strip("()").split())
        if not self.state.keywords:
            flags &= SYSTEM_FLAGS  # not permanent here: dropped, as for a session-only flag
        with self.state.lock:
            for number, mail in self._matching(args[0]):
                if action.startswith("+FLAGS"):
                    mail.flags |= flags
                elif action.startswith("-FLAGS"):
                    mail.flags -= flags
                else:
                    return f"BAD unsupported store {action}"
                if not action.endswith(".SILENT"):
                    self.send(f"* {number} FETCH (UID {mail.uid} FLAGS ({' '.join(sorted(mail.flags))}))\r\n")
        return "OK store done"

    def _copy(self, args: list[str], *, remove: bool) -> str:
        with self.state.lock:
            target = self.state.folders.get(args[1])
            if target is None:
                return "NO [TRYCREATE] no such mailbox"
            moved = self._matching(args[0])
            for _, mail in moved:
                target.mails.append(StoredMail(target.next_uid, mail.raw, set(mail.flags)))
                target.next_uid += 1
            if remove:
                for number, mail in sorted(moved, key=lambda found: -found[0]):
                    self._box().mails.remove(mail)
                    self.send(f"* {number} EXPUNGE\r\n")
        return "OK done"

    def do_UID_COPY(self, args: list[str]) -> str:
        return self._copy(args, remove=False)

    def do_UID_MOVE(self, args: list[str]) -> str:
        if not self.state.move:
            return "BAD MOVE is not offered here"
        return self._copy(args, remove=True)

    def _expunge(self, uid_set: str | None) -> str:
        with self.state.lock:
            box = self._box()
            for number, mail in reversed(list(enumerate(list(box.mails), 1))):
                if "\\Deleted" in mail.flags and (
                    uid_set is None or mail in dict(self._matching(uid_set)).values()
                ):
                    box.mails.remove(mail)
                    self.send(f"* {number} EXPUNGE\r\n")
        return "OK expunged"

    def do_UID_EXPUNGE(self, args: list[str]) -> str:
        if not self.state.uidplus:
            return "BAD UIDPLUS is not offered here"
        return self._expunge(args[0])

    def do_EXPUNGE(self, _: list[str]) -> str:
        return self._expunge(None)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ImapState, tls: ssl.SSLContext | None, starttls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.state, self.tls, self.starttls = state, tls, starttls

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-command or fails the TLS handshake is no server error."""


@dataclass
class ImapServer:
    state: ImapState
    port: int


@contextmanager
def running_imap_server(
    state: ImapState | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    starttls: ssl.SSLContext | None = None,
) -> Iterator[ImapServer]:
    server = _Server(state or ImapState(), tls, starttls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ImapServer(server.state, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _tokens(text: str) -> list[str]:
    """Atoms, quoted strings (unescaped) and parenthesised lists (kept whole)."""
    found: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == " ":
            position += 1
        elif char == '"':
            value, position = [], position + 1
            while text[position] != '"':
                if text[position] == "\\":
                    position += 1
                value.append(text[position])
                position += 1
            found.append("".join(value))
            position += 1
        elif char == "(":
            depth, end = 0, position
            for end in itertools.count(position):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            found.append(text[position : end + 1])
            position = end + 1
        else:
            end = text.find(" ", position)
            end = len(text) if end == -1 else end
            found.append(text[position:end])
            position = end
    return found


def _uid_set(text: str, highest: int) -> set[int]:
    wanted: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition(":")
        low = highest if first == "*" else int(first)
        high = low if not last else (highest if last == "*" else int(last))
        wanted.update(range(min(low, high), max(low, high) + 1))
    return wanted
