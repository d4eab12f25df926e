"""Texts stored once: the ``texts`` table behind the ``findings`` view (migration m017).

A finding's message, remedy, reference and evidence are the same sentences shipment after shipment (the same
SKUs get the same message; a check has a handful of remedies), and they were most of what a screening added
to the database. ``finding_rows`` keeps each finding's short columns and the ids of its texts; the
``findings`` view joins them back, so the table of CONTRACT §5 reads as it always did.

A text's id is derived from its bytes (63 bits of BLAKE2b), so writing a finding needs no look-up by text:
one query per screening checks which ids are stored. Two different texts with the same id (never seen, but
possible) are told apart by comparing the stored text: the second takes the next free id.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Iterable


def text_id(text: str) -> int:
    """The id a text is stored under unless another text took it first (a positive 63-bit integer)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def store_texts(conn: sqlite3.Connection, texts: Iterable[str]) -> dict[str, int]:
    """The ids of ``texts``, inserting those not stored yet (call inside the writer's transaction)."""
    wanted = {text: text_id(text) for text in dict.fromkeys(texts)}
    ids: dict[str, int] = {}
    while wanted:
        marks = ",".join("?" * len(wanted))
        stored = dict(conn.execute(f"select id, text from texts where id in ({marks})", list(wanted.values())))
        new: dict[int, str] = {}
        again: dict[str, int] = {}
        for text, candidate in wanted.items():
            if stored.get(candidate, text) != text or new.get(candidate, text) != text:
                again[text] = (candidate + 1) & _MAX_ID  # the id is another text's: try the next one
            else:
                ids[text] = candidate
                if candidate not in stored:
                    new[candidate] = text
        conn.executemany("insert into texts (id, text) values (?, ?)", new.items())
        wanted = again
    return ids


_MAX_ID = 2**63 - 1
