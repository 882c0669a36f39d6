"""The code cache: compiled block code kept across runs, keyed by the source alone, and a run that
goes on compiling when the cache file is unusable (what emitting produced: test_emitted_cache.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import List, Tuple

import pytest

from tuiemu.translate import codecache
from tuiemu.translate.codecache import CodeCache

from ..conftest import REPO, expected, guest


def source(k: int) -> str:
    return f"def tb(R, F, X):\n    r0 = R[0]\n    r0 = (r0 + {k}) & 0xFFFFFFFF\n    R[0] = r0\n    return None\n"


def add(cache: CodeCache, k: int, r0: int) -> Tuple[int, bool]:
    """Run the block that adds ``k`` to r0 with code from ``cache``: r0 after, and whether the
    cache had the code."""
    code, found = cache.compile(source(k), f"<tb {k}>")
    ns: dict = {}
    exec(code, ns)
    R = [r0]
    ns["tb"](R, None, None)
    return R[0], found


def test_code_written_by_one_run_is_found_by_the_next(tmp_path: Path) -> None:
    first = CodeCache(tmp_path)
    assert [first.compile(source(k), f"<tb {k}>")[1] for k in range(10)] == [False] * 10
    first.flush()

    second = CodeCache(tmp_path)
    assert [add(second, k, 5) for k in range(10)] == [(5 + k, True) for k in range(10)]
    assert add(second, 99, 1) == (100, False)  # a source never seen is compiled


def test_without_a_directory_every_block_is_compiled(tmp_path: Path) -> None:
    cache = CodeCache(None)
    assert not cache.compile(source(1), "<tb>")[1]
    assert not cache.compile(source(1), "<tb>")[1]
    cache.flush()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["garbage", "directory"])
def test_an_unusable_cache_file_costs_a_warning_not_the_run(tmp_path: Path, damage: str,
                                                           capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / codecache.FILE
    if damage == "garbage":
        path.write_bytes(b"not a database, " * 100)
    else:
        path.mkdir()
    cache = CodeCache(tmp_path)
    assert [add(cache, k, 0) for k in range(3)] == [(0, False), (1, False), (2, False)]
    cache.flush()
    assert "code cache" in capsys.readouterr().err
    assert cache.path is None


def test_a_full_cache_drops_its_older_half_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecache, "MAX_ENTRIES", 20)
    monkeypatch.setattr(codecache, "BATCH", 1000)
    cache = CodeCache(tmp_path)
    for k in range(30):
        cache.compile(source(k), "<tb>")
    cache.flush()
    reopened = CodeCache(tmp_path)
    assert [reopened.compile(source(k), "<tb>")[1] for k in range(30)] == [False] * 20 + [True] * 10


def test_threads_compiling_the_same_sources_get_working_code(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecache, "BATCH", 7)  # batches written while others read
    cache = CodeCache(tmp_path)
    errors: List[str] = []
    found: List[bool] = []

    def work(seed: int) -> None:
        for i in range(200):
            k = (i * 7 + seed) % 50
            r0, hit = add(cache, k, 10)
            found.append(hit)
            if r0 != 10 + k:
                errors.append(f"source {k} gave {r0}")

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.flush()
    assert not errors
    assert len(found) == 800 and found.count(False) >= 50 and found.count(True) >= 600


def stats_line(err: str) -> str:
    m = re.search(r"^code cache: .*$", err, re.M)
    assert m, err
    return m.group(0)


def test_a_second_run_of_a_guest_compiles_nothing_and_prints_the_same(tmp_path: Path) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, TUIEMU_CODE_CACHE=str(tmp_path))
        return subprocess.run([sys.executable, "-m", "tuiemu", "run", str(guest("alu")), "--stats", *extra],
                              capture_output=True, env=env, cwd=REPO, timeout=120)
    first, second, off = run(), run(), run("--no-code-cache")
    for r in (first, second, off):
        assert r.returncode == 0, r.stderr
        assert r.stdout == expected("alu")
    counts = [tuple(map(int, re.findall(r"(\d+) blocks' code found, (\d+) compiled; (\d+) found as emitted",
                                         stats_line(r.stderr.decode()))[0])) for r in (first, second)]
    (found1, compiled1, emitted1), (found2, compiled2, emitted2) = counts
    assert compiled1 > 50 and compiled2 == 0 and found2 == found1 + compiled1
    assert emitted1 == 0 and emitted2 > compiled1 // 2  # the second run emits (almost) no block either
    assert stats_line(off.stderr.decode()).startswith("code cache: off")
