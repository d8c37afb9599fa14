"""The shop's users: a small SQLite table and the Flask-Login user object."""

from __future__ import annotations

import os
import sqlite3
import threading

import attrs
from werkzeug.security import check_password_hash, generate_password_hash

__all__ = ["User", "Users"]

PLANS = ("free", "pro")


@attrs.frozen
class User:
    """A shop customer; ``get_id()`` is their mixtrack distinct_id, ``user-<n>``."""

    id: int
    username: str
    plan: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"user-{self.id}"


class Users:
    """Users in SQLite: a file shared by every worker process, or ``:memory:``.

    >>> users = Users(":memory:")
    >>> ada = users.create("ada", "secret", "pro")
    >>> users.check("ada", "secret") == ada, users.check("ada", "wrong")
    (True, None)
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._pid = 0
        self._connection: sqlite3.Connection | None = None
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, "
                "username TEXT UNIQUE NOT NULL, password TEXT NOT NULL, plan TEXT NOT NULL)"
            )

    @property
    def _db(self) -> sqlite3.Connection:
        # A connection must not cross a fork (gunicorn --preload): each process opens its own.
        if self._connection is None or self._pid != os.getpid():
            self._connection = sqlite3.connect(
                self._path, check_same_thread=False, isolation_level=None
            )
            self._connection.execute("PRAGMA busy_timeout = 5000")
            self._pid = os.getpid()
        return self._connection

    def create(self, username: str, password: str, plan: str) -> User | None:
        """The new user, or None when ``username`` is taken."""
        digest = generate_password_hash(password)
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO users (username, password, plan) VALUES (?, ?, ?)",
                    (username, digest, plan),
                )
        except sqlite3.IntegrityError:
            return None
        assert cursor.lastrowid is not None
        return User(cursor.lastrowid, username, plan)

    def check(self, username: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, username, plan, password FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None or not check_password_hash(row[3], password):
            return None
        return User(row[0], row[1], row[2])

    def load(self, user_id: str) -> User | None:
        """Flask-Login's user loader: ``user-<n>`` back to the user."""
        prefix, _, number = user_id.partition("-")
        if prefix != "user" or not number.isdigit():
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT id, username, plan FROM users WHERE id = ?", (int(number),)
            ).fetchone()
        return None if row is None else User(row[0], row[1], row[2])
