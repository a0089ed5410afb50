"""The tag cache: unchanged files are not parsed again, changed ones are, damage is repaired."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from repomap_fixtures import make_repo  # noqa: F401  (fixtures)

import tieragent.repo.map.mapper as mapper
from tieragent.repo.map import build_repo_map
from tieragent.repo.map.cache import RACY_NS, cache_file_for, read_marshal, write_marshal

FILES = {
    "app/a.py": "def alpha():\n    return beta()\n",
    "app/b.py": "def beta():\n    return 2\n",
    "app/c.go": "package app\n\nfunc Gamma() int { return 3 }\n",
    "README.md": "# app\n",
}
HOUR_NS = 3600 * 10**9


@pytest.fixture
def parses(monkeypatch):
    """Every parse_source call, by path."""
    seen: list[str] = []
    real = mapper.parse_source

    def counting(path, data, language=None):
        seen.append(path)
        return real(path, data, language)

    monkeypatch.setattr(mapper, "parse_source", counting)
    return seen


def age(repo: Path, seconds: int = 3600) -> None:
    """Make every file look written long ago (outside the racy window)."""
    past = time.time_ns() - seconds * 10**9
    for rel in FILES:
        os.utime(repo / rel, ns=(past, past))


@pytest.fixture
def repo(make_repo):
    r = make_repo(FILES)
    age(r)
    return r


def test_unchanged_files_are_not_parsed_again(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    first = build_repo_map(repo, cache_dir=cache)
    assert sorted(parses) == sorted(FILES) and first.stats.cache == "cold"
    parses.clear()
    second = build_repo_map(repo, cache_dir=cache)
    assert parses == [] and second.stats.parsed == 0 and second.stats.reused == len(FILES)
    assert second.stats.cache == "warm"
    assert [d.name for d in second.defined_symbols("app/a.py")] == ["alpha"]
    assert second.rank("beta")[0].path == "app/b.py"


def test_a_changed_file_is_parsed_again_and_only_it(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    parses.clear()
    (repo / "app/b.py").write_text("def beta():\n    return 2\n\ndef delta():\n    return 4\n")
    rmap = build_repo_map(repo, cache_dir=cache)
    assert parses == ["app/b.py"] and rmap.stats.parsed_paths == ["app/b.py"]
    assert [d.name for d in rmap.defined_symbols("app/b.py")] == ["beta", "delta"]
    parses.clear()
    build_repo_map(repo, cache_dir=cache)
    assert parses == []


def test_touched_but_identical_file_is_not_parsed(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    parses.clear()
    os.utime(repo / "app/a.py")  # a checkout or `touch` changes only the mtime
    rmap = build_repo_map(repo, cache_dir=cache)
    assert parses == [] and rmap.stats.reused == len(FILES)


def test_same_size_rewrite_within_the_same_clock_tick_is_caught(make_repo, tmp_path, parses):
    repo = make_repo({"m.py": "def one():\n    pass\n"})  # just written: inside the racy window
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    st = os.stat(repo / "m.py")
    (repo / "m.py").write_text("def two():\n    pass\n")  # same size
    os.utime(repo / "m.py", ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    parses.clear()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert parses == ["m.py"]
    assert [d.name for d in rmap.defined_symbols("m.py")] == ["two"]
    assert RACY_NS > 0


def test_deleted_files_leave_the_cache(repo, tmp_path):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    (repo / "app/c.go").unlink()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert "app/c.go" not in rmap.files
    data = read_marshal(cache_file_for(cache, repo))
    assert "app/c.go" not in data["files"] and "app/a.py" in data["files"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda whole: b"\x00\xff not a cache at all",
        lambda whole: whole[: len(whole) // 2],  # cut short
        lambda whole: marshal.dumps([1, 2, 3]),
        lambda whole: marshal.dumps({"version": 1, "files": [1, 2]}),
        lambda whole: b"",
    ],
)
def test_a_corrupt_cache_is_rebuilt_not_fatal(repo, tmp_path, parses, damage):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    path = cache_file_for(cache, repo)
    path.write_bytes(damage(path.read_bytes()))
    parses.clear()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert rmap.stats.cache in ("corrupt (rebuilt)", "outdated (rebuilt)")
    assert sorted(parses) == sorted(FILES)
    assert rmap.rank("alpha")[0].path == "app/a.py"
    parses.clear()
    assert build_repo_map(repo, cache_dir=cache).stats.cache == "warm" and parses == []


def _damage_entry(cache: Path, repo: Path, rel: str) -> None:
    path = cache_file_for(cache, repo)
    data = read_marshal(path)
    entry = data["files"][rel]
    data["files"][rel] = (*entry[:4], marshal.dumps(["python", "not a list of symbols", {}, {}]))
    write_marshal(path, data, ".test-")


def test_a_damaged_entry_is_reparsed_alone(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache).rank("alpha")
    _damage_entry(cache, repo, "app/a.py")
    parses.clear()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert [d.name for d in rmap.defined_symbols("app/a.py")] == ["alpha"]
    assert parses == ["app/a.py"]  # rows are decoded when used: that one was found damaged, and parsed
    parses.clear()
    again = build_repo_map(repo, cache_dir=cache)
    assert [d.name for d in again.defined_symbols("app/a.py")] == ["alpha"] and parses == []  # repaired


def test_a_damaged_entry_is_reparsed_when_the_index_is_rebuilt(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache).rank("alpha")
    _damage_entry(cache, repo, "app/a.py")
    (repo / "app/b.py").write_text("def beta():\n    return 3\n")  # another key: the index is built again
    parses.clear()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert rmap.rank("alpha")[0].path == "app/a.py"
    assert sorted(parses) == ["app/a.py", "app/b.py"]


def test_a_query_or_version_change_invalidates_the_cache(repo, tmp_path, parses):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    path = cache_file_for(cache, repo)
    data = read_marshal(path)
    data["version"] = "1:an-older-query-set"
    write_marshal(path, data, ".test-")
    parses.clear()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert rmap.stats.cache == "outdated (rebuilt)" and sorted(parses) == sorted(FILES)


def test_an_unwritable_cache_dir_only_costs_time(repo, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be\n")
    rmap = build_repo_map(repo, cache_dir=blocker / "tags")
    assert rmap.stats.parsed == len(FILES)


def test_parallel_parsing_matches_serial(repo, tmp_path):
    serial = build_repo_map(repo, workers=1)
    parallel = build_repo_map(repo, workers=2)
    assert parallel.stats.workers == 2
    assert {p: t.to_row() for p, t in serial.files.items()} == {p: t.to_row() for p, t in parallel.files.items()}


WRITER = """
import os, sys, time
from pathlib import Path
from tieragent.repo.map import build_repo_map
repo, cache = Path(sys.argv[1]), Path(sys.argv[2])
for i in range(int(sys.argv[3])):
    (repo / "app" / "gen.py").write_text("def generated_%d():\\n    pass\\n" % i * (1 + i % 7))
    build_repo_map(repo, cache_dir=cache)
"""


def test_two_runs_sharing_the_cache_never_see_a_partial_file(repo, tmp_path):
    cache = tmp_path / "tags"
    build_repo_map(repo, cache_dir=cache)
    path = cache_file_for(cache, repo)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(repo), str(cache), "12"], env=env) for _ in range(2)]
    reads = 0
    while any(w.poll() is None for w in writers):
        data = read_marshal(path)  # must always be a whole file
        assert isinstance(data["files"], dict)
        reads += 1
    assert all(w.returncode == 0 for w in writers)
    assert reads > 0
    leftovers = [p.name for p in cache.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    final = build_repo_map(repo, cache_dir=cache)
    assert final.stats.cache == "warm"


def test_parsing_falls_back_to_this_process_when_helpers_fail(repo, monkeypatch):
    import concurrent.futures

    class Broken:
        def __init__(self, *a, **k):
            raise OSError("no processes in this sandbox")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Broken)
    rmap = build_repo_map(repo, workers=2)
    assert sorted(rmap.files) == sorted(FILES) and rmap.stats.parsed == len(FILES)
    assert [d.name for d in rmap.defined_symbols("app/a.py")] == ["alpha"]


# ------------------------------------------------------------ the stored ranking index


@pytest.fixture
def index_builds(monkeypatch):
    """How many times the ranking index was built from the files' tags."""
    import tieragent.repo.map.index as index

    calls: list[int] = []
    real = index.build_sections

    def counting(paths, files):
        calls.append(len(paths))
        return real(paths, files)

    monkeypatch.setattr(index, "build_sections", counting)
    return calls


def ranking(rmap, request):
    return [(r.path, r.score, r.reasons) for r in rmap.rank(request)]


def test_an_unchanged_tree_reads_the_index_back(repo, tmp_path, index_builds):
    cache = tmp_path / "tags"
    first = build_repo_map(repo, cache_dir=cache)
    expected = {q: ranking(first, q) for q in (None, "alpha calls beta", "Gamma")}
    expected_outline = first.outline("alpha", 500)
    assert index_builds == [len(FILES)]
    second = build_repo_map(repo, cache_dir=cache)
    assert {q: ranking(second, q) for q in expected} == expected
    assert second.outline("alpha", 500) == expected_outline
    assert second.dependencies("app/a.py") == first.dependencies("app/a.py")
    assert index_builds == [len(FILES)]  # not built again


def test_an_edit_rebuilds_the_index(repo, tmp_path, index_builds):
    cache = tmp_path / "tags"
    assert build_repo_map(repo, cache_dir=cache).dependencies("app/b.py") == []
    (repo / "app/b.py").write_text("def beta():\n    return zeta_value()\n\n\ndef zeta_value():\n    return alpha()\n")
    rmap = build_repo_map(repo, cache_dir=cache)
    assert rmap.rank("zeta_value")[0].path == "app/b.py"
    assert [p for p, _ in rmap.dependencies("app/b.py")] == ["app/a.py"]  # the new use of alpha
    assert "defines 'zeta_value', mentioned in request" in rmap.rank("zeta_value")[0].reasons
    (repo / "app/a.py").unlink()
    rmap = build_repo_map(repo, cache_dir=cache)
    assert "app/a.py" not in {r.path for r in rmap.rank(None)} and rmap.dependencies("app/b.py") == []
    assert len(index_builds) == 3


def test_a_damaged_or_foreign_index_is_rebuilt(repo, tmp_path, index_builds, monkeypatch):
    import tieragent.repo.map.index as index

    cache = tmp_path / "tags"
    first = build_repo_map(repo, cache_dir=cache)
    expected = ranking(first, "alpha"), ranking(first, None)
    [stored] = cache.glob("index-*")
    whole = stored.read_bytes()
    data = read_marshal(stored)
    data["sections"]["pagerank"] = marshal.dumps([0.5])  # the wrong length
    for damage in (whole[: len(whole) // 2], b"junk", marshal.dumps(data)):
        stored.write_bytes(damage)
        rmap = build_repo_map(repo, cache_dir=cache)
        assert (ranking(rmap, "alpha"), ranking(rmap, None)) == expected
    assert len(index_builds) == 4
    monkeypatch.setattr(index, "index_version", lambda: "another version of the index code")
    rmap = build_repo_map(repo, cache_dir=cache)
    assert (ranking(rmap, "alpha"), ranking(rmap, None)) == expected
    assert len(index_builds) == 5
