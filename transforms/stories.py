"""Stories: articles about the same event share a ``story_id``.

A looser layer than near-duplicates: different outlets' articles on one
event share names, places and numbers, not sentences.

- Each article becomes a TF-IDF vector of its rarest words (top 60). The
  document frequencies come from a background corpus, not from the batch:
  wordfreq's word frequencies for the article's language (IDF ~ 7 - Zipf
  frequency; ``wordlists.list_language``: Croatian, Serbian and Bosnian are
  read with wordfreq's Serbo-Croatian list, Norwegian with Bokmål's, a
  language wordfreq lacks with English's), so a run of five articles weighs
  words as a run of a million would. Capitalised words (names, places) and
  numbers are boosted.
- Candidates: articles sharing one of their 10 heaviest words (buckets over
  ``MAX_BUCKET`` pair each article with its next ``dedup.WINDOW`` only, in
  the order of their content, ``dedup.bucket_order``, not of their paths); never
  all pairs.
- Links: cosine similarity >= ``LINK_MIN``, judged inside the bucket on a
  packed vector (``pack``: 32-bit word hashes and float16 weights, 6 bytes
  a word, heaviest first), so no record travels with its pairs. The link
  record and the index carry the packed vectors, never the words. On the
  local runner the whole stage runs in one step (``transforms.group_local``);
  given ``--union-find-max-edges`` there, its buckets hold doc_ids and the
  vectors are looked up in one side input (``dedup.LinkRecords``'s
  ``lookup_payloads``).
  Near-duplicate copies are linked too (must-links): a cluster is always in
  one story, and every copy's words count, whichever copy is canonical.
- Stories: inside each connected component of links, average linkage
  (``average_link``): groups merge while the mean similarity over all
  their pairs is >= ``threshold``. Connected components alone chain
  stories of one topic (two boxing title fights of one champion) through a
  single strong link; on stories_dev that cost 8 points of pairwise F1.
  Two groups can only average ``threshold`` if one of their links reaches
  it, so the components are taken over links >= ``threshold`` (the weaker
  links go along for the averages): every story lies inside one, and they
  stay story-sized where components of all links span most of a corpus.
  The averages take the cosine of every pair of the component's articles
  (up to ``dedup.MAX_PAIRS``; each member carries its compact vector), not
  only of the pairs the buckets found: the buckets only need to connect a
  story, so capping them costs nothing (stories_dev: pairwise F1 0.855 ->
  0.862, the same at caps of 11, 21 and 30).
  One component's members must fit one worker; finding the components
  need not (``transforms.components``).
- Two events of one topic: two groups of at least ``APART_MIN`` articles,
  each with a name (an anchor that is not a number) that ``APART_SHARE`` of
  its articles state and none of the other group's do, merge only from a
  mean of ``APART_BAR`` (``DistinctEvents``, a guard ``linkage`` asks before
  each merge). Two title defences of one champion share his name and their
  sport's words; each names its own challenger. stories_dev 0.878 -> 0.907
  (halves 0.825 / 0.927 -> 0.850 / 0.961), crosslingual_dev unchanged. So
  do two groups that each lead with a name (headline and first
  ``LEAD_WORDS`` words, ``lead_names``) that at most ``LEAD_OTHER`` of the
  other's articles lead with: reports of a second player's drink-driving
  arrest recall the first player's in their body, not in their lead.
  stories_dev 0.907 -> 0.921 (worst half 0.850 -> 0.877), crosslingual_dev
  unchanged; the names ride in the anchor vector at weight 0. A
  component averaged over its found links alone (more than ``MAX_PAIRS``
  pairs) goes without it, as the local runner's big components carry no
  vectors.
- Articles a story's own words miss: average linkage leaves alone an
  article whose mean similarity to every story is under the threshold (a
  brief, a follow-up that names the event its own way: a few of each
  article's rare words, not many of any one's). Such an article joins the
  story whose centroid (the sum of its members' vectors) it is most similar
  to, from ``ATTACH_MIN`` (``attach_singletons``; across languages on the
  anchors, from ``CROSS_LINK``). An article none of whose links reaches the
  threshold is brought into the component of its strongest link for that
  (``dedup.Adoptions``, an ``ADOPTED`` edge) and kept out of the linkage and
  of the pair count, so the other members group exactly as without it.
  stories_dev pairwise F1 0.862 -> 0.883 (worst half 0.810 -> 0.843),
  crosslingual_dev 0.762 -> 0.794; with 454 unrelated news articles added
  to stories_dev, precision 0.869 -> 0.868 (docs/benchmarks.md; 0.872 on
  stories_dev once apostrophes are read as wordfreq reads them, below).
- Words are weighed as wordfreq reads them
  (``FrequencyTable.word_frequencies``): a typographic apostrophe is the
  plain one, and a word the list lacks that holds an apostrophe (a French or
  Italian elision, a possessive) by its parts; read whole, "it’s" and "d'un" weighed as much as a rare name.
  A possessive is its word ("Klitschko's", "the Chargers'"), so an article
  that writes a name with it and one that writes it without share the name
  (stories_dev 0.872 -> 0.878).
- Across languages the words differ, so two articles in different
  languages are compared on their anchors instead: the numbers they state
  (digits only, so "8,2" meets "8.2"; years and one-digit numbers left out)
  and the capitalised words (names, places) that are not common words of
  the article's language (Zipf >= ``COMMON_ZIPF``; a sentence's first word
  too, and only inside sentences where the language has no list), case and
  accents folded, Cyrillic transliterated (and any other letter no accent
  comes off, Greek or Icelandic "ð", by anyascii), cut to 6 letters so that
  "Virginia" meets "Virginie". A name is read across an apostrophe
  (``_name_part``): "l'Ukraine", "dell'Airbus" and "Trump's" are Ukraine,
  Airbus and Trump, as a language that does not elide writes them; and
  digits joined to a name ("COVID-19", "A320") are the name's, not a number
  the article states, so a topic's name does not count twice
  (crosslingual_dev 0.794 -> 0.810; 0.814, precision 0.875 -> 0.922, once a
  sentence's first word counts). A name a script without spaces runs into
  ("PCR検査", "UAEの") is read alone, letters of scripts without case being
  words of their own (``_wordlike``): crosslingual_dev 0.810 -> 0.826,
  Japanese pairs' recall 0.48 -> 0.54. Weights are fixed (a number of 4+ digits 2,
  of 3 digits 1.5, of 2 digits and a name 1), nothing fitted to a language.
  Such a link counts only at ``CROSS_LINK`` or more, stricter than a link
  within one language: a topic's shared names must not merge its events
  across a language barrier. The 3 heaviest anchors are bucket keys too.
- Publication time: where both articles' ``published_at`` are known, their
  similarity (either kind) counts in full up to ``FULL_DAYS`` apart and fades
  linearly to nothing at ``NONE_DAYS`` (``time_factor``): the same words a
  year later are another story. An undated article is judged on its words.
  Near-duplicate must-links do not fade. On stories_dev with each topic's
  ECB and ECB+ events kept apart, as dates would keep them, pairwise F1 is
  0.920 against 0.851 (docs/benchmarks.md); the set itself has no dates.
- An article of an earlier run keeps its story: its story starts as one
  group, new articles joining it get its story_id, two earlier stories
  never merge; a new story is named after its smallest doc_id.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import apache_beam as beam
import numpy as np
import xxhash
from anyascii import anyascii

from transforms.components import MAX_UNION_FIND_EDGES
from transforms.dedup import ADOPTED, MAX_BUCKET, MAX_PAIRS, LinkRecords, pairs_to_judge
from transforms.linkage import average_link_groups, judged_pairs
from transforms.wordlists import APOSTROPHE_RUN, frequencies, list_language

__all__ = ["DistinctEvents", "StoryGroups", "anchor_leads", "anchor_names", "anchors", "attach_singletons",
           "centroid_similarity", "compact_cosine", "component_stories", "cosine", "lead_names", "pack",
           "pack_anchors", "pair_cosines", "pair_similarities", "similarity", "term_vector", "time_factor",
           "time_factors", "timestamp", "unpack"]

TOP_TERMS = 60
# A heavy word shared by more articles than dedup.MAX_BUCKET (a name in the
# news all week) pairs each with its next dedup.WINDOW only: pairs stay linear
# in the corpus, and stories are judged on every pair inside a component anyway.
KEY_TERMS = 10
MIN_IDF = 2.5
# Links weaker than this are left out of the average-linkage step (they
# count as 0): it keeps the edge set small and changes little
LINK_MIN = 0.15
_TOKEN = re.compile(r"[^\W\d_][\w'-]*|\d[\d,.]*\d|\d", re.UNICODE)
# typographic apostrophes (right single quote, modifier letter) as the plain one wordfreq's lists use
_APOSTROPHES = ("\u2019", "\u02bc")
# A possessive is its word ("Trump's", "the Chargers'" count as "Trump", "Chargers"), as a contraction's
# ending is ("it's": "it", a common word either way)
_POSSESSIVE = re.compile(r"'(?<=[^\W\d_]')'*(?:s\b|(?!\w))")  # the apostrophe first: re finds it fast
ANCHOR_TERMS = 24
ANCHOR_KEYS = 3
# An article average linkage leaves alone joins the story whose centroid it is
# this similar to (``attach_singletons``)
ATTACH_MIN = 0.3
CROSS_LINK = 0.3  # an anchor link between two languages counts from here (a link within one: LINK_MIN, threshold)
# Two groups of at least APART_MIN articles, each with a name that APART_SHARE of its articles state and none
# of the other's do, merge only from an average of APART_BAR (``DistinctEvents``)
APART_MIN = 3
APART_SHARE = 0.75
APART_BAR = 0.35
# ... and so do two groups that each lead with such a name (in the headline or the first LEAD_WORDS words of
# the text) that at most LEAD_OTHER of the other group's articles lead with. A name there is any capitalised
# word under LEAD_ZIPF in the language's word list: a surname as common as "Jackson" or "Williams" (4.6-4.7,
# under COMMON_ZIPF's cut for anchors) is who a lead is about. At most LEAD_NAMES are kept an article.
LEAD_WORDS = 30
LEAD_OTHER = 0.25
LEAD_ZIPF = 5.0
LEAD_NAMES = 16
# Two articles whose publication times are both known and weeks apart are
# rarely one story: their similarity counts in full up to FULL_DAYS apart and
# fades linearly to nothing at NONE_DAYS (an article without a date is compared
# on its words alone).
FULL_DAYS = 7
NONE_DAYS = 60
# A capitalised word this common in the article's own language (Zipf, wordfreq) is not a name: German
# capitalises every noun, English its weekdays and sentence-internal titles ("the Government").
COMMON_ZIPF = 4.5
# A number as written: thousands grouped by , . or a space ("1,200", "1 200"), or a decimal ("8,2", "8.2");
# "July 31, 2021" is two numbers, not 312021. Digits joined to a word of an alphabet ("COVID-19", "G20",
# "A320", "MH17") are part of a name, which is an anchor already, not a number the article states; after
# a letter of a script written without spaces they are a number ("約50キロ").
_ALPHABETIC = "A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u052f"
# (Its first digit comes first and the lookbehinds after it, so that re skips to the next digit in C rather
# than trying the lookbehinds at every character: a third of the time on long pages, the same matches.)
_NUMBER = re.compile(rf"\d(?<![{_ALPHABETIC}]\d)(?<![{_ALPHABETIC}]-\d)(?<!\d\d)"
                     r"(?:\d{0,2}(?:[,.\u00a0\u202f ]\d{3}(?!\d))+|\d*(?:[.,]\d+)?)")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґ",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s",
                      "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "ye", "yi", "g"]))


@lru_cache(maxsize=1)
def _wordlike() -> re.Pattern:
    """Words as names are read from them (on text as read, ``_as_read``: its
    apostrophes are plain): a run of letters of a script without case
    (Unicode categories Lo and Lm from Greek to the end of the BMP: CJK,
    kana, Hangul, Arabic, Hebrew, Indic, Thai...; and the two planes of
    ideographs) is a word of its own, so that a name a Japanese or Chinese
    sentence writes in Latin letters with no space around it ("PCR検査",
    "UAEの") is read as the name ("PCR", "UAE") other languages state, not
    as one capitalised word with the characters it is joined to. Built
    once, from this Python's Unicode tables (~15 ms); a class of BMP ranges
    and one astral range keeps re's table lookup (ranges of other planes
    made it a scan, 15 times slower). After a word's first letter, its
    letters and digits and its apostrophes and hyphens are read as runs of
    one class with a mark between them (``A*(?:['-]A*)*``), not as a choice
    between the two at every character: the same words, found in a fifth
    less time on long pages."""
    caseless, start, last = [], None, None
    for cp in range(0x370, 0x10000):
        if unicodedata.category(chr(cp)) in ("Lo", "Lm"):
            start, last = start if start is not None else cp, cp
        elif start is not None:
            caseless.append(f"{re.escape(chr(start))}-{re.escape(chr(last))}")
            start = None
    if start is not None:
        caseless.append(f"{re.escape(chr(start))}-{re.escape(chr(last))}")
    lo = "".join(caseless) + "\U00020000-\U0003FFFF"
    letter = rf"[^\W{lo}]"
    return re.compile(rf"[^\W\d_{lo}](?:{letter}|['-]){letter}*(?:['-]{letter}*)*|[{lo}]+", re.UNICODE)


def _as_read(text: str) -> str:
    """The text as both vectors read it: apostrophes plain, possessives dropped."""
    for a in _APOSTROPHES:  # str.replace: a tenth of what str.translate costs here
        text = text.replace(a, "'")
    return _POSSESSIVE.sub("", text)


@lru_cache(maxsize=1 << 12)  # the word lists hold a few hundred distinct (banded) frequencies
def _idf_of(freq: float) -> float:
    zipf = math.log10(freq) + 9.0 if freq > 0 else 0.0
    return max(0.0, 7.0 - zipf)


def term_vector(text: str, title: str | None = None, language: str | None = None) -> list[tuple[str, float]]:
    """The article's heaviest words with unit-normalised TF-IDF weights, heaviest first.
    Apostrophes are made plain ("it’s" is "it's", as wordfreq reads it), and a
    possessive is its word ("Klitschko's" is "klitschko")."""
    lang = list_language(language) or "en"
    toks = _TOKEN.findall(_as_read(f"{title or ''}\n{text}"))
    lows = [tok.casefold() for tok in toks]
    every = Counter(lows)  # each distinct token once from here on
    words = sorted(w for w in every if len(w) >= 3 and not w[0].isdigit())
    # each distinct word looked up once, as wordfreq reads it: read whole, "l'économie" or "it’s" was as
    # rare as a name and linked any two French articles, or blog posts, that used it
    idfs = dict(zip(words, map(_idf_of, frequencies(lang).word_frequencies(words))))
    kept = {w for w in words if idfs[w] >= MIN_IDF}
    # a word counts 1 a time, 1.5 capitalised (halves add up exactly in any order); a number 1.3 a time,
    # added one at a time as the weights always were
    capitalised = Counter(low for tok, low in zip(toks, lows) if low in kept and tok[0].isupper())
    counts: dict[str, float] = {w: every[w] + 0.5 * capitalised[w] for w in kept}
    for number, n in ((w, n) for w, n in every.items() if w[0].isdigit()):
        total = 0.0
        for _ in range(n):
            total += 1.3
        counts[number] = total
    weights = {w: (1.0 + math.log(c)) * (idfs[w] if not w[0].isdigit() else 4.0) for w, c in counts.items()}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return [(w, round(v / norm, 6)) for w, v in top]


@lru_cache(maxsize=1 << 16)
def _fold(word: str) -> str:
    """Case, accents and Cyrillic letters folded to plain Latin; what is left
    that is not ASCII (letters no accent comes off: ð, þ, æ, ø, ł, đ, ß, ı;
    Greek, Armenian, Georgian, Cyrillic letters the table lacks) is
    transliterated by anyascii, so that "Guðni", "Støre" and "Τσίπρας" meet
    "Gudni", "Store" and "Tsipras"."""
    word = "".join(_CYRILLIC.get(c, c) for c in word.casefold())
    word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word if word.isascii() else anyascii(word).casefold()


def anchors(text: str, title: str | None = None, language: str | None = None) -> list[tuple[str, float]]:
    """What survives translation: numbers and names (see the module
    docstring; ``language`` names the word list that tells a common word
    from a name), unit-normalised weights, heaviest first. The text is NFKC
    normalised first: full-width digits and punctuation ("１１５", "１，２００",
    as Japanese pages write them) become the ASCII ones other languages use."""
    text, title = unicodedata.normalize("NFKC", text), unicodedata.normalize("NFKC", title or "")
    counts: dict[str, float] = {}
    for m in _NUMBER.finditer(text):
        digits = "".join(str(unicodedata.digit(c)) for c in m.group(0) if c.isdigit())  # any script's digits
        if len(digits) >= 2 and not (len(digits) == 4 and digits[:2] in ("19", "20")):
            key = "#" + digits[:12]
            counts[key] = counts.get(key, 0.0) + 1.0
    for key in _name_keys(text, title, language, COMMON_ZIPF):
        counts[key] = counts.get(key, 0.0) + 1.0
    weights = {k: (1.0 + math.log(c)) * (min(2.0, 0.5 * len(k) - 0.5) if k[0] == "#" else 1.0)
               for k, c in counts.items()}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:ANCHOR_TERMS]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return [(w, round(v / norm, 6)) for w, v in top]


def lead_names(text: str, title: str | None = None, language: str | None = None) -> list[str]:
    """The anchor keys of the names an article leads with: in its headline and
    the first ``LEAD_WORDS`` words of its text, a capitalised word that is not
    among the most common words of its language (``LEAD_ZIPF``), in order, each
    once, at most ``LEAD_NAMES``."""
    head = unicodedata.normalize("NFKC", " ".join(text.split(None, LEAD_WORDS)[:LEAD_WORDS]))
    keys = _name_keys(head, unicodedata.normalize("NFKC", title or ""), language, LEAD_ZIPF)
    return list(dict.fromkeys(keys))[:LEAD_NAMES]


def _name_keys(text: str, title: str, language: str | None, common_zipf: float) -> list[str]:
    """The anchor keys of the names ``title`` and ``text`` state, once for
    each time a name is stated: a capitalised word (or its capitalised part across an
    apostrophe) that is not a word of ``common_zipf`` or more in the
    language's word list, folded (``_fold``) to its first six letters."""
    # with a word list, a sentence's first word is read as any other: capitalised and not a common word, it is
    # a name ("Klitschko retains his belts"); without one, any word may stand capitalised there
    words_of = list_language(language)
    names = [name for w in _candidate_words(_as_read(f"{title}\n{text}"), skip_first=not words_of)
             if (w[0].isupper() or "'" in w) and (name := _name_part(w))]
    if words_of and names:
        lows = sorted({w.casefold() for w in names})
        common = {w for w, f in zip(lows, frequencies(words_of).get_many(lows))
                  if f > 0 and math.log10(f) + 9.0 >= common_zipf}
        names = [w for w in names if w.casefold() not in common]
    return [key for key in (_fold(w)[:6] for w in names) if len(key) >= 3]


def _candidate_words(text: str, skip_first: bool) -> list[str]:
    """The words of ``text`` that may be names (``_wordlike``), in order; with
    ``skip_first``, without each sentence's first word. Read whole when no
    word is skipped: a word holds no white space and sentences are split
    only at white space (``_SENTENCE``), so the words are those of the
    sentences one after another, found in a third less time."""
    wordlike = _wordlike()
    if not skip_first:
        return wordlike.findall(text)
    return [w for sentence in _SENTENCE.split(text) for w in wordlike.findall(sentence)[1:]]


def _name_part(word: str) -> str | None:
    """The name a word holds, or None: the word when it is capitalised; across
    an apostrophe, the longest part that is capitalised: an elided article or
    preposition is not part of the name it comes before ("l'Ukraine",
    "dell'Airbus", "d'Auteuil"), as the languages that do not elide write it
    (a possessive is gone already: ``_as_read``)."""
    if "'" not in word:
        return word if word[0].isupper() else None
    parts = [p for p in APOSTROPHE_RUN.split(word) if p and p[0].isupper()]
    return max(parts, key=len) if parts else None


def cosine(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    lookup = dict(large)
    return sum(v * lookup.get(w, 0.0) for w, v in small)


def pack(terms: list[tuple[str, float]]) -> bytes:
    """A term or anchor vector as bytes: its words' 32-bit hashes (xxh32), then
    their weights as float16, in the vector's own order (heaviest first, so
    the first ``KEY_TERMS`` hashes are its bucket keys). 6 bytes a word,
    ~360 for 60 words, against ~8 KB for the list of (word, weight) tuples
    as Python holds it. Two words of the same two articles share a hash
    about once in 10^6 pairs of articles, and a half-precision weight moves
    a cosine by about 0.001: the same pairwise F1 on both story sets as
    with the words (docs/benchmarks.md)."""
    h = np.fromiter((xxhash.xxh32_intdigest(w.encode("utf-8", "surrogatepass")) for w, _ in terms),
                    dtype="<u4", count=len(terms))
    w = np.fromiter((v for _, v in terms), dtype="<f2", count=len(terms))
    return h.tobytes() + w.tobytes()


def _entries(packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, weights) of every entry of a packed vector, the names an
    anchor vector's article leads with among them (weight 0)."""
    n = len(packed) // 6
    return np.frombuffer(packed, dtype="<u4", count=n), np.frombuffer(packed, dtype="<f2", count=n, offset=4 * n)


def unpack(packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, weights) of a packed vector (``pack``; ``pack_anchors``' flags
    after them are not read, nor the names its article leads with, which
    weigh nothing: every cosine, bucket key and centroid is what it would be
    without them)."""
    hashes, weights = _entries(packed)
    if weights.all():
        return hashes, weights
    kept = weights != 0
    return hashes[kept], weights[kept]


def pack_anchors(terms: list[tuple[str, float]], lead: list[str] = ()) -> bytes:
    """``pack`` of an anchor vector and, after it, the names its article leads
    with (``lead_names``, at most ``LEAD_NAMES``) at weight 0 (a name may be
    both), then one bit an entry (little-endian bytes, in the vector's
    order) set for a name of the vector and clear for a number (``anchors``'
    "#" keys) and for a lead name. The flags take fewer than 6 bytes for up
    to 40 entries (``ANCHOR_TERMS`` is 24), so ``unpack`` reads the vector as
    before, and an older record without them or the lead names is read
    alike. No anchor weighs 0: each is at least 1 before the vector is
    normalised, against at most 24 of at most about 12."""
    entries = list(terms) + [(k, 0.0) for k in lead[:LEAD_NAMES]]
    flags = np.packbits(np.fromiter((i < len(terms) and not w.startswith("#") for i, (w, _) in enumerate(entries)),
                                    dtype=bool, count=len(entries)), bitorder="little")
    return pack(entries) + flags.tobytes()


def anchor_names(packed: bytes) -> np.ndarray:
    """The hashes of a packed anchor vector's names (``pack_anchors``); all its
    hashes for an older record, which has no flags."""
    hashes = _entries(packed)[0]
    n = len(hashes)
    if len(packed) == 6 * n:
        return hashes
    names = np.unpackbits(np.frombuffer(packed, dtype=np.uint8, offset=6 * n), count=n, bitorder="little")
    return hashes[names.astype(bool)]


def anchor_leads(packed: bytes) -> set[int] | None:
    """The hashes of the names a packed anchor vector's article leads with
    (``pack_anchors``), or None where it names none (a record of an older
    newsbeam, which did not keep them, or an article whose lead names no one)."""
    hashes, weights = _entries(packed)
    lead = hashes[weights == 0]
    return set(lead.tolist()) if len(lead) else None


def _keys(rec):
    for h in unpack(rec["terms"])[0][:KEY_TERMS].tolist():
        yield f"t:{h:08x}", rec["doc_id"]
    for h in unpack(rec.get("anchors") or b"")[0][:ANCHOR_KEYS].tolist():
        yield f"a:{h:08x}", rec["doc_id"]


# A packed weight is a float16 in [0, 1], a multiple of 2**-24: times 2**24 it is an
# integer, a product of two is below 2**48, and a cosine (at most TOP_TERMS
# products) is summed exactly in integers and rounded to a float once. So the
# cosine of two vectors is the same float however its products are added up,
# one pair at a time (``compact_cosine``) or many at once (``pair_cosines``).
_UNIT = 1 << 24
_SCALE = 2.0 ** -48


def _fixed(weights: np.ndarray) -> np.ndarray:
    """Packed float16 weights as exact integers (times 2**24). A weight outside
    [0, 1] (a damaged index row: NaN, infinite, negative) is read as the
    nearest of them, so no product leaves the integers' range."""
    w = np.nan_to_num(weights.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(w, 0.0, 1.0, out=w) * _UNIT).astype(np.int64)


def compact_cosine(a: bytes, b: bytes) -> float:
    """The cosine of two packed vectors (both unit-normalised): the sum of the
    products of the weights of every two entries of equal hash, added exactly."""
    ha, wa = unpack(a)
    hb, wb = unpack(b)
    if not len(ha) or not len(hb):
        return 0.0
    weights: dict[int, int] = {}
    for h, w in zip(ha.tolist(), _fixed(wa).tolist()):
        weights[h] = weights.get(h, 0) + w
    total = 0
    for h, w in zip(hb.tolist(), _fixed(wb).tolist()):
        x = weights.get(h)
        if x:
            total += x * w
    return total * _SCALE


def _numbered(h: np.ndarray) -> tuple[int, np.ndarray]:
    """(how many distinct values ``h`` holds, each entry's place among them in
    sorted order, int32): ``np.unique(h, return_inverse=True)`` of 32-bit hashes,
    from one sort of each value and its position packed in 64 bits, a third
    of the time of the argsort ``np.unique`` makes. ``h``: fewer than 2**31 entries."""
    n = len(h)
    packed = (h.astype(np.uint64) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
    packed.sort()
    value = packed >> np.uint64(32)
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(value[1:], value[:-1], out=new[1:])
    col = np.empty(n, dtype=np.int32)
    col[(packed & np.uint64(0xFFFFFFFF)).astype(np.int64)] = np.cumsum(new, dtype=np.int32) - 1
    return int(np.count_nonzero(new)), col


def pair_cosines(vectors: list[bytes], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``compact_cosine(vectors[a[k]], vectors[b[k]])`` for every k, the same
    floats, worked out with NumPy: the vectors' hashes numbered as columns,
    then for each run of pairs with the same first vector, that vector's
    weights added into a table by column (a hash twice in it: both weights)
    and read at the columns of the second vectors' entries. Pairs of one
    first vector should be together (the table is set once a run)."""
    out = np.zeros(len(a), dtype=np.float64)
    if not len(a):
        return out
    unpacked = [unpack(v) for v in vectors]
    sizes = np.fromiter((len(h) for h, _ in unpacked), dtype=np.int64, count=len(unpacked))
    if not sizes.sum():
        return out
    starts = np.concatenate(([0], np.cumsum(sizes)))
    n_columns, col = _numbered(np.concatenate([h for h, _ in unpacked]))
    weights = _fixed(np.concatenate([w for _, w in unpacked]))
    # the entries of each pair's second vector, pair after pair (int32: fewer than 2**31 in a call)
    nb = sizes[b]
    first_entry = np.concatenate(([0], np.cumsum(nb)))
    entries = np.arange(first_entry[-1], dtype=np.int32)
    entries += np.repeat((starts[b] - first_entry[:-1]).astype(np.int32), nb)
    found = np.zeros(len(entries), dtype=np.int64)
    table = np.zeros(n_columns, dtype=np.int64)
    runs = np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1], [True])))
    for lo, hi in zip(runs[:-1].tolist(), runs[1:].tolist()):
        x = int(a[lo])
        mine = col[starts[x]:starts[x + 1]]
        np.add.at(table, mine, weights[starts[x]:starts[x + 1]])
        e0, e1 = first_entry[lo], first_entry[hi]
        found[e0:e1] = table[col[entries[e0:e1]]]
        table[mine] = 0
    found *= weights[entries]  # each entry's product
    some = np.flatnonzero(nb)
    if len(some):
        out[some] = np.add.reduceat(found, first_entry[some]).astype(np.float64) * _SCALE
    return out


def time_factor(a: float | None, b: float | None) -> float:
    """How much of two articles' similarity counts, by how far apart they were
    published (POSIX seconds, None when unknown): 1 up to ``FULL_DAYS``, then
    linearly less, 0 from ``NONE_DAYS``."""
    if a is None or b is None:
        return 1.0
    days = abs(a - b) / 86400.0
    if days <= FULL_DAYS:
        return 1.0
    return max(0.0, (NONE_DAYS - days) / (NONE_DAYS - FULL_DAYS))


def timestamp(value) -> float | None:
    """A publication time as POSIX seconds (a naive one taken as UTC), None when unknown."""
    if not isinstance(value, dt.datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()


def similarity(a: tuple, b: tuple) -> float:
    """Two payloads ``(terms, anchors, language, published)``, each vector
    compact: the cosine of their words in one language; across languages,
    that of their anchors when it reaches ``CROSS_LINK``, else 0; times
    ``time_factor`` of their publication times. A record of an older
    newsbeam's index has no language (nor anchors): its words are compared."""
    f = time_factor(a[3], b[3]) if len(a) > 3 and len(b) > 3 else 1.0
    if f <= 0.0:
        return 0.0
    if a[2] == b[2] or a[2] is None or b[2] is None:
        return f * compact_cosine(a[0], b[0])
    c = f * compact_cosine(a[1], b[1])
    return c if c >= CROSS_LINK else 0.0


def pair_similarities(payloads: list[tuple], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``similarity(payloads[a[k]], payloads[b[k]])`` for every k, the same floats,
    worked out with NumPy (``pair_cosines``); pairs of one first payload should
    be together."""
    out = np.zeros(len(a), dtype=np.float64)
    if not len(a):
        return out
    names: dict[str, int] = {}
    language = np.array([-1 if p[2] is None else names.setdefault(p[2], len(names)) for p in payloads], dtype=np.int64)
    la, lb = language[a], language[b]
    same = np.flatnonzero((la == lb) | (la < 0) | (lb < 0))
    other = np.flatnonzero((la != lb) & (la >= 0) & (lb >= 0))
    when = np.array([np.nan if len(p) < 4 or p[3] is None else p[3] for p in payloads], dtype=np.float64)
    factor = time_factors(when[a], when[b])
    if len(same):
        out[same] = factor[same] * pair_cosines([p[0] for p in payloads], a[same], b[same])
    if len(other):
        c = factor[other] * pair_cosines([p[1] for p in payloads], a[other], b[other])
        out[other] = np.where(c >= CROSS_LINK, c, 0.0)
    return out


def time_factors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``time_factor`` of each two POSIX times (NaN for unknown), the same floats."""
    days = np.abs(a - b) / 86400.0  # NaN where either is unknown (no warning: NaN only carries through)
    fading = np.maximum(0.0, (NONE_DAYS - days) / (NONE_DAYS - FULL_DAYS))
    return np.where(np.isnan(days) | (days <= FULL_DAYS), 1.0, fading)


def _payload(rec):
    return rec["terms"], rec.get("anchors") or b"", rec.get("language"), timestamp(rec.get("published_at"))


class _Similar:
    """``similarity`` of two payloads when it is at least ``LINK_MIN``, else None."""

    def __call__(self, a, b) -> float | None:
        c = similarity(a, b)
        return c if c >= LINK_MIN else None


def _member(rec) -> dict:
    return {"doc_id": rec["doc_id"], "old": rec.get("old"), "story_id": rec.get("story_id"), "vec": _payload(rec)}


def _all_links(members: list[dict], edges: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """The links of a component: its must-links, and the cosine of every pair of
    members (not two earlier ones) at ``LINK_MIN`` or more, or only the found
    edges when that would be more than ``MAX_PAIRS`` pairs."""
    if pairs_to_judge(members) > MAX_PAIRS:
        return edges
    members, a, b = judged_pairs(members)
    w = pair_similarities([m["vec"] for m in members], a, b)
    keep = np.flatnonzero(w >= LINK_MIN)
    return ([e for e in edges if e[2] >= 1.0]
            + [(members[x]["doc_id"], members[y]["doc_id"], c)
               for x, y, c in zip(a[keep].tolist(), b[keep].tolist(), w[keep].tolist())])


def _centroid_cosine(x: bytes, vectors: list[tuple[bytes, float]]) -> float:
    """The cosine of packed vector ``x`` with the sum of packed ``vectors``, each
    times its factor (summed in the order given, in float64); 0 without any."""
    if not vectors:
        return 0.0
    unpacked = [(unpack(v), f) for v, f in vectors]
    keys, at = np.unique(np.concatenate([h for (h, _), _ in unpacked]), return_inverse=True)
    total = np.zeros(len(keys), dtype=np.float64)
    np.add.at(total, at.ravel(), np.concatenate([w.astype(np.float64) * f for (_, w), f in unpacked]))
    norm = math.sqrt(float(total @ total))
    hx, wx = unpack(x)
    if not norm or not len(hx):
        return 0.0
    _, ix, ik = np.intersect1d(hx, keys, return_indices=True)
    return float(wx[ix].astype(np.float64) @ total[ik]) / norm


def centroid_similarity(x: tuple, story: list[tuple]) -> float:
    """How close payload ``x`` is to a story (its members' payloads): the
    cosine of its words with the sum of the words of the members in its
    language; with none in its language, of its anchors with the sum of theirs,
    counted from ``CROSS_LINK`` as a link between languages is. Members are
    weighed by ``time_factor`` from ``x`` and the cosine by their mean factor,
    so a story of weeks before counts as a link to it would."""
    tx = x[3] if len(x) > 3 else None
    factors = [time_factor(tx, m[3] if len(m) > 3 else None) for m in story]
    mean = sum(factors) / len(factors) if factors else 0.0
    dated = [(m, f) for m, f in zip(story, factors) if f > 0.0]
    if not dated:
        return 0.0
    same = [(m[0], f) for m, f in dated if m[2] == x[2] or m[2] is None or x[2] is None]
    if same:
        return mean * _centroid_cosine(x[0], same)
    c = mean * _centroid_cosine(x[1], [(m[1], f) for m, f in dated if m[1]]) if x[1] else 0.0
    return c if c >= CROSS_LINK else 0.0


def attach_singletons(groups: list[tuple[str | None, list[dict]]], edges: list[tuple[str, str, float]],
                      attach_min: float | None = None) -> list[tuple[str | None, list[dict]]]:
    """Average linkage leaves alone an article whose mean similarity to every
    story is under the threshold: a brief, a follow-up that names the event its
    own way, shares a few of each article's rare words and not many of any
    one's. Such a new article joins the story (of two or more, in its
    component, one of whose members it links to) whose centroid it is most
    similar to (``centroid_similarity``), when that reaches ``attach_min``;
    ties go to the story whose first doc_id is smallest. Each is judged against
    the stories as average linkage left them, so the order does not matter;
    members carry their payloads as ``vec``. ``attach_min``: ``ATTACH_MIN``
    unless given."""
    attach_min = ATTACH_MIN if attach_min is None else attach_min
    linked: dict[str, set[str]] = {}
    for a, b, w in edges:
        if w >= LINK_MIN:
            linked.setdefault(a, set()).add(b)
            linked.setdefault(b, set()).add(a)
    stories_of = [(gid, g) for gid, g in groups if len(g) > 1]
    where = {m["doc_id"]: k for k, (_, g) in enumerate(stories_of) for m in g}
    joins: dict[int, list[dict]] = {}
    kept = []
    for gid, g in groups:
        m = g[0]
        if len(g) > 1 or m.get("old") or m["doc_id"] not in linked:
            kept.append((gid, g))
            continue
        near = sorted({where[d] for d in linked[m["doc_id"]] if d in where})
        best, at = attach_min, None
        for k in near:
            s = centroid_similarity(m["vec"], [x["vec"] for x in stories_of[k][1]])
            if s >= best and (at is None or s > best):
                best, at = s, k
        if at is None:
            kept.append((gid, g))
        else:
            joins.setdefault(at, []).append(m)
    if not joins:
        return groups
    out = []
    for gid, g in kept:
        k = where.get(g[0]["doc_id"]) if len(g) > 1 else None
        out.append((gid, sorted(g + joins[k], key=lambda m: m["doc_id"]) if k in joins else g))
    return out


def average_link(members: list[dict], edges: list[tuple[str, str, float]], threshold: float) -> list[tuple[str, str]]:
    """Stories of one connected component: (doc_id, story_id) for its new members
    (see ``average_link_groups``); a new story is named after its smallest doc_id."""
    out = []
    for group_id, group in average_link_groups(members, edges, threshold):
        out.extend((m["doc_id"], group_id or group[0]["doc_id"]) for m in group if not m.get("old"))
    return out


class DistinctEvents:
    """A ``linkage`` guard: two groups of at least ``APART_MIN`` articles that
    each have a name (an anchor that is not a number, ``anchors``) which most
    of their own articles state (``APART_SHARE`` of them, two at least) and
    none of the other group's do are two events (two title defences of one
    champion, each naming its challenger; two rehab stays of one actor, at
    two clinics), and merge only at an average of ``APART_BAR``, not the
    threshold. So are two groups that each have a name most of their
    articles lead with (``lead_names``) and at most ``LEAD_OTHER`` of the
    other's do: reports of a second player's arrest recall the first
    player's in their body, so his name is no longer the first event's
    alone, but they lead with the second's. Numbers do not count: a story's
    figures change as it unfolds (a toll, a score), its names less. Groups
    smaller than that are judged on their words alone: one or two articles
    leave out any name. ``anchor_sets``: each member's name hashes
    (``anchor_names``), in doc_id order; ``lead_sets``: the names each leads
    with (``anchor_leads``), None where it names none or an older newsbeam
    wrote the record (a group with such a member is not judged on its leads)."""

    def __init__(self, anchor_sets: list[set[int]], lead_sets: list[set[int] | None] | None = None):
        self.anchor_sets = anchor_sets
        self.lead_sets = lead_sets if lead_sets is not None else [None] * len(anchor_sets)
        self.count: dict[int, Counter] = {}
        self.lead: dict[int, Counter | None] = {}
        self.size: dict[int, int] = {}

    def begin(self, groups: dict[int, list[int]]) -> None:
        for root, rows in groups.items():
            self.count[root] = Counter(h for x in rows for h in self.anchor_sets[x])
            leads = [self.lead_sets[x] for x in rows]
            self.lead[root] = None if None in leads else Counter(h for s in leads for h in s)
            self.size[root] = len(rows)

    def _own(self, mine: Counter, other: Counter, size: int, others: float = 0.0) -> bool:
        """Whether a group of ``size`` articles has a name most of them state
        (``mine``) and at most ``others`` of the other group's articles do."""
        bar = max(2.0, APART_SHARE * size)
        return any(c >= bar and other.get(h, 0) <= others for h, c in mine.items())

    def allows(self, x: int, y: int, average: float) -> bool:
        if average >= APART_BAR or self.size[x] < APART_MIN or self.size[y] < APART_MIN:
            return True
        count, size = self.count, self.size
        if self._own(count[x], count[y], size[x]) and self._own(count[y], count[x], size[y]):
            return False
        lx, ly = self.lead[x], self.lead[y]
        return (lx is None or ly is None or not (self._own(lx, ly, size[x], LEAD_OTHER * size[y])
                                                 and self._own(ly, lx, size[y], LEAD_OTHER * size[x])))

    def merged(self, keep: int, gone: int) -> None:
        self.count[keep] = _joined(self.count.pop(gone), self.count[keep])
        gone_lead, keep_lead = self.lead.pop(gone), self.lead[keep]
        self.lead[keep] = None if gone_lead is None or keep_lead is None else _joined(gone_lead, keep_lead)
        self.size[keep] += self.size.pop(gone)


def _joined(a: Counter, b: Counter) -> Counter:
    """Two groups' counts as one: the smaller counter added into the larger."""
    small, large = sorted((a, b), key=len)
    large.update(small)
    return large


def component_stories(members: list[dict], edges: list[tuple[str, str, float]],
                      threshold: float) -> list[tuple[str, str]]:
    """(doc_id, story_id) for the new members of one component. Its members
    brought in by an ``ADOPTED`` edge (no link of theirs reaches the threshold,
    so average linkage could never merge them) stay out of the linkage and of
    ``MAX_PAIRS``: the others group exactly as they would without them. Two
    events of one topic stay apart (``DistinctEvents``). Then every article
    left alone is weighed against the stories (``attach_singletons``, on its
    links as found), unless the component has too many pairs to judge them
    all (it is averaged over its found links, with no guard, and not
    attached either)."""
    adopted = {a for a, _, w in edges if w == ADOPTED}
    core = [m for m in members if m["doc_id"] not in adopted]
    links = _all_links(core, edges)
    judged = pairs_to_judge(core) <= MAX_PAIRS
    # two groups of APART_MIN: a smaller component (most are a pair) has nothing for the guard to refuse
    guard = None
    if judged and len(core) >= 2 * APART_MIN:
        ordered = sorted(core, key=lambda m: m["doc_id"])
        guard = DistinctEvents([set(anchor_names(m["vec"][1]).tolist()) for m in ordered],
                               [anchor_leads(m["vec"][1]) for m in ordered])
    groups = average_link_groups(core, links, threshold, guard=guard)
    groups += [(None, [m]) for m in sorted(members, key=lambda m: m["doc_id"]) if m["doc_id"] in adopted]
    if judged:
        found = [e for e in edges if e[2] >= LINK_MIN and (e[0] in adopted or e[1] in adopted)]
        groups = attach_singletons(groups, links + found)
    out = []
    for group_id, group in groups:
        out.extend((m["doc_id"], group_id or group[0]["doc_id"]) for m in group if not m.get("old"))
    return out


class _StoryIdFn(beam.DoFn):
    def __init__(self, threshold: float):
        self.threshold = threshold

    def process(self, element):
        _, g = element
        return component_stories(list(g["member"]), list(g["edge"]), self.threshold)


class StoryGroups(beam.PTransform):
    """(new story records, index records[, known links]) -> (doc_id, story_id)
    for new articles in a multi-article story.

    Known links (pairs of doc_ids, e.g. near-duplicate copies) always share a story.
    ``lookup_payloads``: see ``dedup.LinkRecords`` (the local runner's choice)."""

    def __init__(self, threshold: float = 0.25, max_union_find_edges: int | None = MAX_UNION_FIND_EDGES,
                 lookup_payloads: bool = False):
        super().__init__()
        self.threshold = threshold
        self.max_union_find_edges = max_union_find_edges
        self.lookup_payloads = lookup_payloads

    def expand(self, inputs):
        new, old, *known = inputs
        recs = (new, old) | "AllRecords" >> beam.Flatten()
        known = (known[0] | "MustLinks" >> beam.Map(lambda ab: (ab[0], ab[1], 1.0)) if known
                 else recs.pipeline | "NoKnownEdges" >> beam.Create([]))
        return (recs, recs, known) | "Link" >> LinkRecords(_keys, _payload, _Similar(), _member,
                                                              _StoryIdFn(self.threshold), max_bucket=MAX_BUCKET,
                                                              in_bucket=True, component_min=self.threshold,
                                                              group_key="story_id",
                                                              max_union_find_edges=self.max_union_find_edges,
                                                              lookup_payloads=self.lookup_payloads, adopt=True)
