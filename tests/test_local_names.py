"""What a folder on disk can hold besides regular files with UTF-8 names.

A crawl or an archive unpacked on Linux keeps the bytes its names were
written in (Latin-1, Shift JIS, a broken tool's output); a folder can also
hold a named pipe, a symbolic link to nothing or a loop of links. None of
them may stop the run, hang it or be left out: a file is read whatever its
name's bytes (``source`` shows the bytes that are not UTF-8 as ``\\xNN``),
and what cannot be read is a reject with the reason.
"""
import os
import random
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, manifest, read_table
from fuzz import article_page, article_text
from pipeline.cli import run
from transforms.read import LocalName, portable, shown

_EXTENSIONS = (".html", ".txt", ".htm")


def _name_bytes(rnd: random.Random) -> bytes:
    """A file name of random bytes (none of them / or NUL), at least one not UTF-8."""
    body = bytes(rnd.choice([b for b in range(1, 256) if b != 0x2F]) for _ in range(rnd.randint(1, 12)))
    return body + bytes([rnd.randint(0x80, 0xFF)]) + bytes(rnd.choice([b"", b"-", b" \xe9t\xe9"]))


def _make(folder: str, name: bytes, data: bytes) -> bytes | None:
    """Writes ``data`` as ``folder/name``; None where the filesystem refuses the name (macOS, Windows)."""
    path = os.fsencode(folder) + b"/" + name
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError:
        return None
    return path


def test_local_name_shows_undecodable_bytes_and_opens_by_them(tmp_path):
    raw = _make(str(tmp_path), b"caf\xe9.txt", b"hello")
    if raw is None:
        pytest.skip("this filesystem refuses names that are not UTF-8")
    path = os.fsdecode(raw)
    assert portable(path) == raw and portable("/plain/caf\u00e9.txt") == "/plain/caf\u00e9.txt"
    name = LocalName(raw)
    assert name == shown(path) == os.fsdecode(os.fsencode(str(tmp_path))) + "/caf\\xe9.txt"
    assert name.raw == raw and type(str(name)) is str
    name.encode("utf-8")  # what Beam's coder and Parquet need


def test_a_folder_of_odd_entries_is_read_whole_and_accounted_for(tmp_path):
    """One run over generated names of random bytes, a file in a folder whose
    name is not UTF-8, a named pipe, links to nothing and a loop, a folder
    named like a file: every file an article, everything else a reject."""
    rnd = random.Random(5)
    src = tmp_path / "in"
    src.mkdir()
    expected_articles = {}
    for i in range(24):
        name = _name_bytes(rnd) + rnd.choice(_EXTENSIONS).encode()
        text = article_text(rnd, 6)
        data = (article_page(rnd) if name.endswith((b".html", b".htm")) else text).encode()
        raw = _make(str(src), name, data)
        if raw is None:
            pytest.skip("this filesystem refuses names that are not UTF-8")
        expected_articles[str(LocalName(raw))] = raw
    sub = os.fsencode(str(src)) + b"/r\xe9sum\xe9s"
    os.mkdir(sub)
    inner = _make(os.fsdecode(sub), b"inner.txt", article_text(rnd, 6).encode())
    expected_articles[str(LocalName(inner))] = inner
    (src / "plain.txt").write_text(article_text(rnd, 6))
    expected_articles[str(src / "plain.txt")] = None
    (src / "folder.html").mkdir()  # a folder is not a document
    os.symlink(str(src), str(src / "loop"))  # a link back up: not walked
    os.symlink(str(tmp_path / "nowhere.html"), str(src / "dangling.html"))
    expected_rejects = {str(src / "dangling.html"): "open_failed"}
    if hasattr(os, "mkfifo"):
        os.mkfifo(str(src / "pipe.txt"))  # opening it would block the reader for ever
        expected_rejects[str(src / "pipe.txt")] = "not_a_file"

    out = str(tmp_path / "out")
    run(["--input", str(src), "--output", out], quiet=True)
    arts = read_table(out, "articles")
    rejects = read_table(out, "rejects")
    assert {a["source"] for a in arts} == set(expected_articles)
    assert {r["source"]: r["reason"] for r in rejects} == expected_rejects
    assert "named pipe" in next(r["error"] for r in rejects if r["reason"] == "not_a_file") or not hasattr(os, "mkfifo")
    counts = manifest(out)["counts"]
    assert counts["articles_written"] == len(arts) and counts["rejected"] == len(rejects)
    assert not counts.get("unaccounted")


def test_a_folder_nested_deeper_than_the_recursion_limit_and_than_path_max(tmp_path):
    """Folders 1,200 deep (Python 3.11's os.walk raised RecursionError there,
    and the whole input was one no_match reject) and 2,500 deep (a path
    longer than the system takes): the files above are read, the one too
    deep to open is a reject naming why."""
    rnd = random.Random(8)
    src = tmp_path / "in"
    src.mkdir()
    (src / "top.txt").write_text(article_text(rnd, 6))
    reachable = os.path.join(str(src), *["d"] * 1200, "deep.txt")
    fd = os.open(str(src), os.O_RDONLY)
    try:  # one folder at a time, each made inside the last (its path soon too long to name, and makedirs recurses)
        for depth in range(1, 2501):
            os.mkdir("d", dir_fd=fd)
            fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
            os.close(parent)
            if depth in (1200, 2500):
                name = "deep.txt" if depth == 1200 else "bottom.txt"
                with open(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
                    f.write(article_text(rnd, 6))
    finally:
        os.close(fd)
    out = str(tmp_path / "out")
    try:
        run(["--input", str(src), "--output", out], quiet=True)
        assert sorted(a["source"] for a in read_table(out, "articles")) == sorted([str(src / "top.txt"), reachable])
        (rej,) = read_table(out, "rejects")
        assert rej["reason"] == "open_failed" and "File name too long" in rej["error"]
    finally:
        _remove_chain(str(src), "d")


def _remove_chain(top: str, name: str) -> None:
    """Remove a chain of folders ``name`` nested too deep for shutil.rmtree
    (recursive in Python 3.11) and for paths: down by chdir, up removing."""
    here = os.getcwd()
    try:
        os.chdir(top)
        depth = 0
        while os.path.isdir(name):
            os.chdir(name)
            depth += 1
        for _ in range(depth):
            for entry in os.listdir("."):
                os.remove(entry)
            os.chdir("..")
            os.rmdir(name)
    finally:
        os.chdir(here)


def test_an_argument_that_is_not_utf8_is_refused_before_the_run(tmp_path):
    """Beam sends options to its workers as UTF-8: the run stops at once, saying what to do, not mid-run."""
    folder = _make(str(tmp_path), b"d\xe9p\xeat", b"x")
    if folder is None:
        pytest.skip("this filesystem refuses names that are not UTF-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", folder, "--output", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "is not UTF-8" in proc.stderr and "d\\\\xe9p\\\\xeat" in proc.stderr
    assert not out.exists()


def test_names_with_glob_characters_are_taken_as_named(tmp_path):
    """A folder or file named with [ ] * ? is read as named (Beam's matching
    took "news [2024]" for a character class and matched nothing), a file two
    inputs name is read once, and an output folder so named finds its earlier
    runs (index, commit journals) and cleans up after itself."""
    rnd = random.Random(3)
    src = tmp_path / "news [2024]"
    src.mkdir()
    (src / "a[1].txt").write_text(article_text(rnd, 6))
    (src / "b*?.txt").write_text(article_text(rnd, 6))
    out = str(tmp_path / "out [1]")
    args = ["--input", str(src), "--input", str(src / "a[1].txt"), "--output", out]
    run(args, quiet=True)
    first = read_table(out, "articles")
    assert sorted(a["source"] for a in first) == [str(src / "a[1].txt"), str(src / "b*?.txt")]
    run(args, quiet=True)
    runs = sorted(os.listdir(os.path.join(out, "runs")))
    import json

    counts = json.load(open(os.path.join(out, "runs", runs[-1])))["counts"]
    assert counts["already_ingested"] == 2 and counts["articles_written"] == 0
    assert len(read_table(out, "articles")) == 2
    assert not os.listdir(os.path.join(out, "_staging"))


def test_the_output_folder_inside_an_input_folder_is_not_read(tmp_path):
    """``newsbeam run --input . --output out``, run twice: the second run read
    the first one's Parquet, manifests and state as input (65 rejects on the
    seeds). The run's own output folder is left out of its inputs."""
    from conftest import SEEDS

    for name in os.listdir(SEEDS):
        with open(os.path.join(SEEDS, name), "rb") as src, open(tmp_path / name, "wb") as dst:
            dst.write(src.read())
    out = str(tmp_path / "out")
    run(["--input", str(tmp_path), "--output", out], quiet=True)
    second = run(["--input", str(tmp_path), "--output", out], quiet=True)["counts"]
    assert second["inputs_seen"] == 5 and second["already_ingested"] == 5 and second["rejected"] == 0
    assert not [r for r in read_table(out, "rejects")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["dir", "file", "link_dir", "link_file",
                                                                     "dangling"])), max_size=40))
def test_the_walk_without_recursion_lists_what_os_walk_lists(tmp_path_factory, plan):
    """Random trees of folders, files and links (to folders, to files, to
    nothing): ``read._folders`` gives what ``os.walk`` gives, in its order."""
    from transforms.read import _folders

    root = str(tmp_path_factory.mktemp("walk"))
    folders = [root]
    for i, (where, kind) in enumerate(plan):
        parent = folders[where % len(folders)]
        path = os.path.join(parent, f"{kind}{i}")
        if kind == "dir":
            os.mkdir(path)
            folders.append(path)
        elif kind == "file":
            open(path, "w").close()
        elif kind == "link_dir":
            os.symlink(folders[(where * 7) % len(folders)], path)
        elif kind == "link_file":
            target = os.path.join(root, "target.txt")
            open(target, "w").close()
            os.symlink(target, path)
        else:
            os.symlink(os.path.join(root, "nowhere"), path)
    errors: list = []
    mine = [(d, sorted(names)) for d, names in _folders(root, errors.append)]
    theirs = [(d, sorted(names)) for d, _, names in os.walk(root)]
    assert mine == theirs and not errors
