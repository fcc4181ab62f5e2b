"""Reads users from the database."""

import sqlite3


def find_user(conn: sqlite3.Connection, name: str):
    """Returns the user called `name`."""
    cursor = conn.cursor()
    cursor.execute(f"SELECT id, name FROM users WHERE name = '{name}'")
    return cursor.fetchone()
