"""Patterns that run on the worker, outside the extraction child's timeout,
take time linear in their input.

Each was found by pumping the pattern's own pieces (``"<!-- x -->"``,
``"premium"``, spaces) a few hundred times: a file named ``include.php``
starting with 40 HTML comments and no doctype held ``newsbeam run`` for
ever (the sniff for a page saved under an odd name could split a run of
comments in 2^n ways); a 272 KB text line of "<!-- x -->premium" took 51 s
in the chrome check. Each bound below is more than 10 times what the input
takes now and a small fraction of what it took before.
"""
import subprocess
import sys
import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.page_meta import clean_authors
from transforms.textclean import clean_text

PIECES = ["<!-- x -->", "<!--", "-->", "<?xml ", " ", "\n", "premium", "cookies", "to view ", "on ", "at ", "1",
          "-", ".", "a", "Jane", "|", "\t", "by "]


def test_a_head_of_many_comments_is_sniffed_at_once():
    """In a child process with a timeout, since the old pattern never returns."""
    code = ("from transforms.read import _looks_like_html\n"
            "for head in (b'<!-- x -->' * 409, b'<!-- -->' * 100 + b'<?xml ' * 600, b'<!-- a -->' * 30 + b'<div>'):\n"
            "    assert not _looks_like_html(head[:4096])\n"
            "assert _looks_like_html(b'<!-- a -->' * 300 + b'<!DOCTYPE html>')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_long_line_of_chrome_words():
    text = "Headline\n\n" + "<!-- x -->premium " * 16000 + "\n" + "The council met on Tuesday. " * 20
    t = time.perf_counter()
    clean_text(text)
    assert time.perf_counter() - t < 5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4), st.sampled_from(["", "!", "\x00", "\n", "Z"]))
def test_pumped_pieces_of_the_patterns(pump, killer):
    """Any short run of the patterns' pieces, repeated to ~60 KB: the sniff,
    the text cleaner and the author cleaner each finish in well under a second
    (quadratic ones took tens of seconds at this size)."""
    from transforms.read import _looks_like_html

    s = "".join(pump) * max(1, 60_000 // len("".join(pump))) + killer
    t = time.perf_counter()
    _looks_like_html(s[:4096].encode())
    clean_text("Title\n\n" + s + "\n" + "The council met on Tuesday. " * 10)
    clean_authors([s[:20_000]], None, None)
    assert time.perf_counter() - t < 3


# the machine-translation evidence rules run on every English article, on up to
# MAX_EVIDENCE_CHARS (200,000) of it
EVIDENCE_PIECES = ["\n", " ", "\t", "\u3000", "«", "»", "a", "Ab", " -", "-", "the", "(", "...", "…", "【", "」", "、",
                   "5,2", "Source", ":", "Le Monde", "Poutine", "Слава", "ロシア", "$", "="]


@settings(max_examples=40, deadline=None)
@example(["\n"])  # the credit-line rules' "\s*" after each line break read all the breaks after it: 12 s at 20 KB
@given(st.lists(st.sampled_from(EVIDENCE_PIECES), min_size=1, max_size=4))
def test_evidence_rules_on_pumped_pieces(pump):
    from transforms.mtevidence import find_evidence

    s = "".join(pump) * max(1, 20_000 // len("".join(pump)))
    t = time.perf_counter()
    find_evidence(s, text_language="en")
    assert time.perf_counter() - t < 1.5
