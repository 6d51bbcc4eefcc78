"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temporary folder, on a unix socket.

Under root (as in CI) the server runs as the ``postgres`` user through ``runuser``,
since PostgreSQL refuses to run as root.  Without PostgreSQL installed the tests that
need it skip; under ``CI=true`` they fail instead (install it with
``apt-get install postgresql``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install -y --no-install-recommends postgresql"
_names = itertools.count(1)


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI ({reason}): {INSTALL_HINT}")
    pytest.skip(f"PostgreSQL not available ({reason}): {INSTALL_HINT}")


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The socket folder of a running throwaway server; stopped and removed at the end."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        _missing("initdb and pg_ctl not found")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg not installed: pip install 'xlreport[db]'")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _missing("no postgres user to run the server as")
    root = Path(tempfile.mkdtemp(prefix="xlreport-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run(_as_server_user([str(initdb), "-D", str(data), "-U", "xlreport", "--auth=trust", "-E", "UTF8", "--no-sync"]), **run)  # type: ignore[call-overload]
        options = f"-k {root} -c listen_addresses='' -c fsync=off"
        subprocess.run(_as_server_user([str(pg_ctl), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]), **run)  # type: ignore[call-overload]
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc} {detail.decode(errors='replace')[-500:]}")
    try:
        yield str(root)
    finally:
        subprocess.run(_as_server_user([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the throwaway server, as an SQLAlchemy URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_names)}"
    with psycopg.connect(host=postgres_server, user="xlreport", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://xlreport@/{name}?host={postgres_server}"
