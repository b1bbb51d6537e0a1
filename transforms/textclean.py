"""Remove site chrome from whole-page plain-text dumps.

A text dump of a news page (copy-paste, ``lynx -dump``, a scraper's
``innerText``) mixes the article with navigation, share and comment
prompts, paywall notices, counters, player timestamps and icon strips.
This module keeps the article lines with general rules, in the spirit of
jusText and Boilerpipe, written for text that has lost its markup:

1. every line is scored on its own: length, stop-word density in the
   document's language (jusText's stop-lists, 100 languages), sentence
   punctuation, digits and symbols, and a small lexicon of chrome phrases
   (comment policies, sign-up and paywall prompts, share lines, captchas);
2. the article is the contiguous run of lines with the highest total
   score (a maximum-sum segment), so navigation above it and link lists
   below it fall away together;
3. inside that run, a line that is clearly chrome is still dropped, and
   short lines (sub-headings, datelines) are kept only when the lines around
   them are article text (neighbours);
4. lines that a batch has seen in many documents of the same site can be
   passed in as ``repeated`` and count as chrome.

Pure functions, no Beam: the transform in ``transforms.extract`` wraps it.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["clean_text", "CleanResult", "line_key"]

_WORD = re.compile(r"\w+", re.UNICODE)
_SENT_END = re.compile(r"[.!?。！？…:;]['\"”’»)\]]*\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A reader comment's header: "name says:", "name on May 2, 2019 at 4:47 pm said:",
# a bare "November 19, 2019 at 6:44 am", "Reply", "12 Likes". Several of them
# mark where the article has ended and the comment thread begins.
_COMMENT_HEAD = re.compile(
    r"(\b(says|said|wrote|writes|disse|dice|dijo|sagt|schrieb|a dit|a écrit|schreef|ha scritto)\s*:\s*$)"
    r"|(\b\d{4},?\s+(at|um|à|às|a las|alle)\s+\d{1,2}[:.h]\d{2}\s*([ap]\.?m\.?)?\s*$)"
    r"|(^(reply|responder|antworten|répondre|rispondi|report|flag|like|\d+\s+(likes?|replies|repl(y|ies)))$)"
    r"|(^\d+\s+(minutes?|hours?|days?|weeks?|months?|years?)\s+ago$)",
    re.IGNORECASE)
_LINK_MARK = re.compile(r"^\s*[»›▶►→⟩]")
_TIMESTAMP = re.compile(r"^[\d\s:.,/\-–—|•·()+%]+$")
_DATE_ONLY = re.compile(
    r"^(\w+,?\s+)?\d{1,4}[\s./-]\w{2,9}[\s./,-]+\d{2,4}(\s*[,|-]?\s*\d{1,2}:\d{2}(\s*[ap]\.?m\.?)?)?(\s+\w{2,4})?$",
    re.IGNORECASE)

# Phrases that mark a whole line as page chrome in most news sites.  They are
# matched on lower-cased lines; every phrase is generic (no site names).
_CHROME_PHRASES = [
    # comments and community
    r"comment(ing)? polic", r"commenting system", r"leave (a )?comments?", r"post a comment",
    r"\bcomments? \(\d+\)", r"^\d+ comments?$", r"^comments?$", r"view comments", r"show comments",
    r"join the (conversation|discussion)", r"community guidelines", r"be the first to comment",
    # accounts, paywalls, newsletters
    r"\bsign (in|up)\b", r"\blog ?in\b", r"\bregister (now|here|for free)\b", r"\bto leave comments\b",
    r"subscribe (now|today|here|to)", r"\bsubscribers? only\b", r"upgrade to premium", r"\bpremium\b.*\b(upgrade|subscribe)",
    r"newsletter", r"already (a subscriber|have an account)", r"create (a free )?account",
    r"you have reached (your|the) (limit|maximum)", r"free articles? (left|remaining)",
    r"to (continue|keep) reading", r"unlock (this|full) (article|access)",
    # sharing and following
    r"^share( this| on|:|$)", r"share (this|the) (article|story|post|page)", r"click to share", r"share on (facebook|twitter|x|linkedin|whatsapp)",
    r"follow us( on)?\b", r"^(tweet|email|print|whatsapp|facebook|twitter|linkedin|pinterest|reddit|telegram)$",
    r"copy (the )?link", r"link copied",
    # legal, cookies, ads
    r"all rights reserved", r"^©|^copyright\b", r"\bcookies?\b.*\b(use|accept|consent|policy|settings)",
    r"privacy (policy|notice|settings)", r"terms (of (use|service)|and conditions)",
    r"^advertisements?$", r"^(sponsored|promoted)( content| stories)?$", r"^ad$", r"\bad ?blocker\b",
    r"\[email(&#160;|\s)protected\]", r"email protected",
    # captchas, forms, widgets
    r"captcha", r"^required fields?", r"fields marked", r"your email address will not be published",
    r"do you like this (article|story)", r"was this (article|story) (helpful|useful)", r"rate this (article|story)",
    r"^(read|see|show|load) (more|also|next|all)\b", r"^(related|more|recommended|popular|trending|latest)( stories| articles| news| posts| videos| content| from|:|$)",
    r"^(most (read|popular|viewed))", r"^(latest|top|more|breaking) (headlines|stories|news)$", r"you (may|might) (also )?(like|enjoy)",
    r"recommended (for you|reading|stories)", r"(don't|do not) miss", r"editor'?s'? picks?", r"^trending( now)?$", r"^best of$", r"^(next|previous) (article|story|post)", r"^(back to top|skip to (main )?content|jump to)",
    r"to view .* data please", r"bias distribution", r"coverage details", r"^\d+ (articles|sources|shares|views|likes)$",
    r"^(download|get) (the|our) app", r"^(watch|listen)( live| now)?:?$", r"^podcasts?$", r"^videos?$", r"^photos?$",
    r"please (note|check) (that )?(we|our)", r"thank you for (your|reading|visiting)",
    r"report (a|an) (error|typo|correction)", r"(send|submit) (us )?(a )?(tip|feedback|correction)",
]
_CHROME_RE = re.compile("|".join(f"(?:{p})" for p in _CHROME_PHRASES))
CHROME_CHARS = 2000  # the characters of a line the chrome phrases are looked for in


def _literal_run(phrase: str) -> str | None:
    """The longest run of plain characters every match of ``phrase`` holds (its
    top-level literals side by side), "^" for a phrase that can only match at a
    line's start, None when there is neither (or Python's pattern parser is
    not at hand)."""
    try:
        from re import _constants as codes, _parser as parser
    except ImportError:  # Python 3.10
        try:
            import sre_constants as codes
            import sre_parse as parser
        except ImportError:
            return None
    try:
        items = list(parser.parse(phrase))
    except Exception:  # a parser of another Python that reads it otherwise: the phrase is searched always
        return None
    if items and items[0] == (codes.AT, codes.AT_BEGINNING):
        return "^"
    best = run = ""
    for op, value in items:
        run = run + chr(value) if op == codes.LITERAL else ""
        best = max(best, run, key=len)
    return best if len(best) >= 3 else None


class _ChromeSearch:
    """``bool(_CHROME_RE.search(line))``, the same answer for every line, about
    ten times as fast: the alternation of ~90 phrases is tried at every
    character of a line (50 us a line of 120 characters: 14% of a text
    record's CPU). The phrases that start with "^" are tried at the start
    only; each of the others only when the line holds the run of plain
    characters that every match of it holds (``_literal_run``: "comment",
    "newsletter", "sign "...); a phrase without one is searched always."""

    def __init__(self, phrases: list[str]):
        anchored, always, self.keyed = [], [], []
        for p in phrases:
            run = _literal_run(p)
            if run == "^":
                anchored.append(p)
            elif run is None:
                always.append(p)
            else:
                self.keyed.append((run, re.compile(p)))
        self.anchored = re.compile("|".join(f"(?:{p})" for p in anchored)) if anchored else None
        self.always = re.compile("|".join(f"(?:{p})" for p in always)) if always else None

    def __call__(self, line: str) -> bool:
        if self.anchored is not None and self.anchored.match(line):
            return True
        if any(run in line and pattern.search(line) for run, pattern in self.keyed):
            return True
        return self.always is not None and self.always.search(line) is not None


_chrome = _ChromeSearch(_CHROME_PHRASES)
# Chrome that ends an article: section headers of link lists and comment
# threads. Other chrome (share bars, ads, widgets) can sit between paragraphs.
_BARRIER_RE = re.compile(
    r"^(related|more|recommended|popular|trending|latest|top|read (more|also|next)|see also|you (may|might)"
    r"|most (read|popular|viewed)|(leave|post) a (comment|reply)|comments?\b|\d+ comments?|join the)"
    r"|(headlines|stories|articles|news|posts|videos)\s*:?$")


@dataclass(frozen=True)
class CleanResult:
    text: str
    kept: int
    dropped: int
    language_hint: str | None


def line_key(line: str) -> str:
    """Normalised form of a line used to recognise repeats across documents."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", line).lower()))


@lru_cache(maxsize=1)
def _stoplists() -> tuple[tuple[str, ...], tuple[frozenset[str], ...], dict[str, tuple[int, ...]]]:
    """jusText's stop-lists (names, sets) and an index word -> lists holding it.

    Loaded once per process (~60 ms); read-only afterwards, so results never
    depend on what a worker processed before.
    """
    import justext

    names = tuple(sorted(justext.get_stoplists()))
    sets = tuple(frozenset(justext.get_stoplist(n)) for n in names)
    index: dict[str, list[int]] = {}
    for i, sl in enumerate(sets):
        for w in sl:
            index.setdefault(w, []).append(i)
    return names, sets, {w: tuple(v) for w, v in index.items()}


def _pick_stoplist(words: Sequence[str]) -> tuple[str | None, frozenset[str]]:
    """The stop-list that covers most of the document's words (ties: name order)."""
    if not words:
        return None, frozenset()
    names, sets, index = _stoplists()
    sample = words[:2000]
    counts = [0] * len(names)
    for w, c in Counter(sample).items():  # each distinct word once: a text repeats its stop-words
        for i in index.get(w, ()):
            counts[i] += c
    best = max(range(len(names)), key=lambda i: (counts[i], -i))
    if counts[best] < 0.08 * len(sample):
        return None, frozenset()
    return names[best], sets[best]


@dataclass
class _Line:
    text: str
    words: int
    chars: int
    stop: float
    sentence: bool
    cjk: bool
    chrome: bool
    junk: bool
    repeated: bool
    score: float = 0.0


def _features(line: str, stoplist: frozenset[str], repeated: bool) -> _Line:
    low = line.lower()
    toks = _WORD.findall(low)
    n = len(toks)
    cjk_chars = len(_CJK.findall(line))
    cjk = cjk_chars > 0.3 * max(1, len(line))
    stop = (sum(1 for t in toks if t in stoplist) / n) if (n and stoplist) else 0.0
    sentence = bool(_SENT_END.search(line))
    # a chrome line is short: only such a line is searched, and only its start (phrases with ".*" between two
    # words made the search quadratic in a long line: 272 KB of "... premium ..." took 51 s on the worker)
    chrome = n < 80 and _chrome(low[:CHROME_CHARS])
    alpha = sum(map(str.isalpha, line))
    junk = bool(_TIMESTAMP.match(line)) or bool(_DATE_ONLY.match(line.strip()))
    if _LINK_MARK.match(line) or (alpha < 0.25 * len(line.replace(" ", ""))):
        junk = True
    # icon strips and tag clouds: many words, no sentence structure, few stop-words
    if not cjk and n >= 12 and stoplist and stop < 0.08 and not sentence:
        junk = True
    return _Line(line, n, len(line), stop, sentence, cjk, chrome, junk, repeated)


# Weights of the line score, tuned on the scrapinghub text-dump dev set
# (benchmarks/text_cleaning.py); both halves of the set agree within 0.01 F1.
_CHROME_PENALTY = 30.0
_SHORT_PENALTY = 9.0
_MEDIUM_PENALTY = 5.0


def _score(ln: _Line, has_stoplist: bool) -> float:
    """Positive for article-like lines, negative for chrome-like ones."""
    if ln.chrome or ln.junk or ln.repeated:
        return -max(_CHROME_PENALTY, min(ln.words, 40) * 1.0)
    size = ln.chars / 2.0 if ln.cjk else ln.words  # CJK: ~2 chars a word
    if ln.cjk:
        good = size >= 25 and ln.sentence
        short = size < 8
    else:
        dense = (ln.stop >= 0.25) if has_stoplist else True
        good = size >= 12 and dense and (ln.sentence or size >= 25)
        short = size < 6
    if good:
        return size
    if short:
        return -_SHORT_PENALTY + (2.0 if ln.sentence else 0.0)
    # medium lines: sentence-like ones lean positive, link-like ones negative
    if ln.sentence and (not has_stoplist or ln.stop >= 0.15):
        return size * 0.5
    return -_MEDIUM_PENALTY


def _is_barrier(ln: _Line) -> bool:
    return ln.chrome and ln.words <= 8 and bool(_BARRIER_RE.search(ln.text.lower()))


def _extend(lines: Sequence[_Line], lo: int, hi: int) -> tuple[int, int]:
    """Grow the run across interleaved chrome (ads, share bars) when article
    text continues on the other side; never across a section barrier."""
    if hi < lo:
        return lo, hi

    def step(i: int, d: int) -> int | None:
        j = i + d
        while 0 <= j < len(lines) and lines[j].score <= 0:
            if _is_barrier(lines[j]) or not (lines[j].chrome or lines[j].junk or lines[j].repeated):
                return None
            j += d
        return j if 0 <= j < len(lines) and lines[j].score >= 10 else None

    while (j := step(hi, 1)) is not None:
        hi = j
    while (j := step(lo, -1)) is not None:
        lo = j
    return lo, hi


def _best_segment(scores: Sequence[float]) -> tuple[int, int]:
    """Inclusive bounds of the maximum-sum contiguous run (Kadane, first wins)."""
    best, best_lo, best_hi = float("-inf"), 0, -1
    cur, lo = 0.0, 0
    for i, s in enumerate(scores):
        if cur <= 0:
            cur, lo = s, i
        else:
            cur += s
        if cur > best:
            best, best_lo, best_hi = cur, lo, i
    return best_lo, best_hi


def _mark_repeats(lines: Sequence[_Line]) -> None:
    """Short lines that a page repeats three times or more are widgets (share bars, section labels)."""
    counts: dict[str, int] = {}
    keys = [line_key(ln.text) if ln.words <= 8 else "" for ln in lines]
    for k in keys:
        if k:
            counts[k] = counts.get(k, 0) + 1
    for ln, k in zip(lines, keys):
        if k and counts[k] >= 3:
            ln.repeated = True


def _is_comment_head(line: str) -> bool:
    """``_COMMENT_HEAD.search(line)``, searched only where it can match: its
    first two alternatives end the line with a colon, or with a time's digit
    or its "am"/"p.m." ("m" or "m.", either case; a sentence's full stop is
    not enough), and then it is searched as before; the other two are anchored
    at the line's start, so elsewhere it is tried there alone, not at every
    character (the same answer for every line; a sixth of a text record's
    cleaning went to it)."""
    end = line.rstrip()
    last = end[-1:]
    if last == ":" or last.isdecimal() or end.endswith(("m", "M", "m.", "M.")):
        return _COMMENT_HEAD.search(line) is not None
    return _COMMENT_HEAD.match(line) is not None


def _comments_start(lines: Sequence[_Line]) -> int:
    """Index of the first line of a reader-comment thread, or len(lines).

    A thread is a run of comment headers, at least two, no more than 25 lines
    apart; it only counts when article-like text comes before it.
    """
    heads = [i for i, ln in enumerate(lines) if ln.words <= 25 and _is_comment_head(ln.text)]
    for k, h in enumerate(heads):
        if k + 1 < len(heads) and heads[k + 1] - h <= 25:
            before = sum(ln.words for ln in lines[:h] if ln.sentence and ln.words >= 10)
            if before >= 30:
                return h
            break
    return len(lines)


def clean_text(text: str, repeated: Iterable[str] = ()) -> CleanResult:
    """Return the article lines of a whole-page text dump, in order.

    ``repeated``: ``line_key`` values seen across many pages of the same site
    in this batch; such lines are treated as chrome.
    """
    rep = frozenset(repeated)
    # every line break Unicode has (str.splitlines): CR, LF, CRLF, and also U+2028/U+2029 (text that passed
    # through JavaScript or a word processor), NEL, form feeds; split only on "\n", such a text was one line
    raw_lines = [l.strip() for l in text.splitlines()]
    idx = [i for i, l in enumerate(raw_lines) if l]
    if not idx:
        return CleanResult("", 0, 0, None)
    all_words = _WORD.findall(text.lower())
    lang, stoplist = _pick_stoplist(all_words)
    lines = [_features(raw_lines[i], stoplist, bool(rep) and line_key(raw_lines[i]) in rep) for i in idx]
    lines = lines[: _comments_start(lines)]
    _mark_repeats(lines)
    for ln in lines:
        ln.score = _score(ln, bool(stoplist))
    lo, hi = _best_segment([ln.score for ln in lines])
    lo, hi = _extend(lines, lo, hi)
    if hi < lo:
        return _short_note(lines, lang)
    keep = [False] * len(lines)
    for i in range(lo, hi + 1):
        ln = lines[i]
        if ln.chrome or ln.junk or ln.repeated:
            continue
        if ln.score > 0:
            keep[i] = True
            continue
        # short or link-like line inside the article: keep it only between
        # article lines (a sub-heading), never at the edges of the run
        prev_good = any(lines[j].score > 0 for j in range(max(lo, i - 2), i))
        next_good = any(lines[j].score > 0 for j in range(i + 1, min(hi, i + 2) + 1))
        if prev_good and next_good and ln.words <= 20:
            keep[i] = True
    # strongly article-like lines outside the run (a lead above a photo
    # caption block, a last paragraph after an inline widget)
    for i, ln in enumerate(lines):
        if not keep[i] and (i < lo or i > hi) and ln.score >= 20 and ln.sentence:
            near = [j for j in range(max(0, i - 3), min(len(lines), i + 4)) if j != i]
            if any(lines[j].score > 0 for j in near):
                keep[i] = True
    out = [ln.text for ln, k in zip(lines, keep) if k]
    if not out:
        return _short_note(lines, lang)
    return CleanResult("\n".join(out), len(out), len(lines) - len(out), lang)


SHORT_NOTE_LINES = 3


def _short_note(lines: Sequence[_Line], lang: str | None) -> CleanResult:
    """A text the line scores keep nothing of, when it is a short note: at
    most ``SHORT_NOTE_LINES`` lines, each a sentence and none chrome, junk or
    repeated ("Polls close at eight tonight.", a record's one-line brief). A
    line under six words scores as too short to be article text, which is
    right among a page's chrome and wrong when the line is all there is.
    "Home", "Login / Sign up" and "Page 2 of 3" stay no article."""
    if len(lines) <= SHORT_NOTE_LINES and all(
            ln.sentence and not (ln.chrome or ln.junk or ln.repeated) for ln in lines):
        return CleanResult("\n".join(ln.text for ln in lines), len(lines), 0, lang)
    return CleanResult("", 0, len(lines), lang)
