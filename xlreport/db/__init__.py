"""Figures in a database: ``db init|load|dump|log``, ``build --from`` and ``import --into``.

SQLAlchemy Core under the hood: SQLite by default (a file path), PostgreSQL
through psycopg 3.  Needs the ``db`` extra: ``pip install 'xlreport[db]'``.
"""

from __future__ import annotations

from .connect import INSTALL_HINT

__all__ = ["INSTALL_HINT"]
