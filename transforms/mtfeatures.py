"""Features of translated English that do not depend on the topic.

A plain word n-gram model learns names and subjects ("Zelensky", "corona")
rather than translation, and flags native English news on the same subjects.
Here every content word is replaced by a coarse class (how frequent the word
is in English, its shape and its ending), and only closed-class words
(determiners, pronouns, prepositions, auxiliaries, conjunctions...) and
punctuation are kept as themselves. N-grams over that sequence capture the
syntax and the function-word profile of the text (what translation changes).
Dense statistics (lexical variety, mean word frequency, sentence length) were
measured too and left out: they lowered held-out AUC (0.65 -> 0.60) because
they track genre and length more than translation.

No Beam import: the same code runs in training (``scripts/train_mt.py``), in
the pipeline and in the benchmarks.
"""
from __future__ import annotations

import math
import re

import numpy as np
import xxhash

__all__ = [
    "FEATURE_SCHEME",
    "FUNCTION_WORDS",
    "HASH_BITS",
    "Featurizer",
    "tokenize",
]

HASH_BITS = 18
# What a model file was trained on; MtModel refuses a file made for other
# features. Change it with any change to what ``features`` returns.
FEATURE_SCHEME = "classes-1-3gram/v1"
_HASH_MASK = (1 << HASH_BITS) - 1
_MAX_TOKENS = 3000  # the first ~2,000 words say all there is to say
# n-grams are packed into one integer, base _ID_SPACE per class: the classes
# are a closed set (function words, punctuation, shape x band x suffix)
_ID_SPACE = 1 << 14
_SLOT_BITS = 20  # n-gram hashes remembered per process: 2^20 slots, 12 MB
_SLOT_MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing of an n-gram to its slot
_CLASS_CACHE = 50_000  # memoised token classes, per process (the most frequent come first; a token's entry
# costs ~150 bytes here, and past ~50,000 the rare words the cache would add save nothing measurable)

# Closed-class English words: what translation shifts and topic does not.
FUNCTION_WORDS = frozenset(["a", "an", "the", "this", "that", "these", "those", "such", "what", "which", "who", "whom", "whose", "whoever", "whatever", "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their", "theirs", "themselves", "one", "ones", "oneself", "someone", "somebody", "something", "anyone", "anybody", "anything", "everyone", "everybody", "everything", "nobody", "nothing", "none", "no", "not", "nor", "neither", "either", "both", "each", "every", "all", "any", "some", "many", "much", "more", "most", "few", "fewer", "less", "least", "several", "other", "another", "same", "own", "else", "and", "or", "but", "so", "yet", "for", "because", "although", "though", "while", "whereas", "whether", "if", "unless", "until", "till", "since", "as", "than", "then", "once", "when", "whenever", "where", "wherever", "why", "how", "however", "therefore", "thus", "hence", "moreover", "furthermore", "nevertheless", "nonetheless", "meanwhile", "otherwise", "instead", "also", "too", "very", "quite", "rather", "just", "only", "even", "still", "already", "again", "almost", "always", "never", "often", "sometimes", "usually", "ever", "perhaps", "maybe", "indeed", "really", "about", "above", "across", "after", "against", "along", "amid", "among", "around", "at", "before", "behind", "below", "beneath", "beside", "besides", "between", "beyond", "by", "despite", "down", "during", "except", "from", "in", "inside", "into", "like", "near", "of", "off", "on", "onto", "out", "outside", "over", "past", "per", "regarding", "through", "throughout", "to", "toward", "towards", "under", "underneath", "unlike", "up", "upon", "via", "with", "within", "without", "according", "due", "order", "addition", "spite", "regard", "terms", "be", "am", "is", "are", "was", "were", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "done", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "ought", "need", "dare", "there", "here", "now", "today", "yesterday", "tomorrow", "ago", "soon", "later", "later", "yes", "well", "up", "down", "out", "away", "back"])

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)
# Spacing that English typography does not have; emitted as its own token so
# that n-grams see it in context.
_SPACE_BEFORE = re.compile(r"\s([:;!?»%])")
# the hyphen and its space first, the word before it looked behind: re finds " -" and "- " fast, where a
# lookbehind first was tried at every position (0.41 -> 0.10 ms an article, the same matches)
_SPACED_HYPHEN = re.compile(r"(?: -|- )(?<=\w -|\w- )(?=\w)")

_MARKERS = {"\ue000": "SPACED-HYPHEN", "\ue001": "SPACE-BEFORE"}

def tokenize(text: str) -> list[str]:
    """Words, numbers and punctuation marks; spacing artifacts as markers."""
    text = _SPACED_HYPHEN.sub(" \ue000 ", text)
    text = _SPACE_BEFORE.sub(" \ue001 \\1", text)
    return _TOKEN.findall(text)[:_MAX_TOKENS]


def _suffix(w: str) -> str:
    for suf in ("ing", "ed", "ly", "tion", "sion", "ment", "ness", "ity", "al", "ive", "ous", "er", "es", "s"):
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return suf
    return "-"


class Featurizer:
    """Turns a text into hashed class n-grams and dense statistics.

    ``freq`` maps a lower-case English word to its frequency (wordfreq's
    ``get_frequency_dict("en")``), shared with story detection and loaded
    once per process.
    """

    def __init__(self, freq: dict[str, float] | None = None):
        if freq is None:
            from transforms.wordlists import frequencies

            freq = frequencies("en")
        self.freq = freq
        self._cls_cache: dict[str, tuple[str, str, float]] = {}  # token -> _classify(token)
        self._ids: dict[str, int] = {}  # token class -> small integer (this process only)
        self._names: list[str] = []
        self._slot_gram = np.zeros(1 << _SLOT_BITS, dtype=np.int64)  # 0: no n-gram (every n-gram is >= k**3)
        self._slot_hash = np.zeros(1 << _SLOT_BITS, dtype=np.int32)

    def _zipf(self, w: str) -> float:
        f = self.freq.get(w)
        return math.log10(f) + 9.0 if f else 0.0

    def _classify(self, tok: str) -> tuple[str, str, float]:
        """(class at a sentence start, class elsewhere, zipf) of one token;
        zipf < 0 for non-words."""
        marker = _MARKERS.get(tok)
        if marker:
            return marker, marker, -1.0
        if not (tok[0].isalnum() or tok[0] == "_"):
            cls = tok if tok in "\"'“”‘’«»„()[]{}.,;:!?-–—…/%&*" else "SYM"
            return cls, cls, -1.0
        if tok[0].isdigit():
            cls = "NUMSEP" if ("," in tok or "." in tok) else "NUM"
            return cls, cls, -1.0
        low = tok.lower()
        if low in FUNCTION_WORDS:
            # a capitalised function word says something only inside a sentence
            return low, (low if tok[0].islower() else "^" + low), self._zipf(low)
        z = self._zipf(low)
        band = "z0" if z == 0 else f"z{min(6, max(1, int(z)))}"
        if tok.isupper() and len(tok) > 1:
            shape = "A"
        elif tok[0].isupper():
            shape = "C"
        else:
            shape = "l"
        cls = f"{shape}{band}{_suffix(low)}"
        return cls, cls, z

    def _entry(self, tok: str) -> tuple[int, int, bool, bool | None]:
        """(class id at a sentence start, class id elsewhere, is a word, what it
        does to the sentence start: False ends it, True begins one, None neither)."""
        at_start, inside, z = self._classify(tok)
        if z >= 0 or at_start in ("NUM", "NUMSEP"):
            after = False
        elif tok in ".!?":
            after = True
        else:
            after = None
        return self._class_id(at_start), self._class_id(inside), z >= 0, after

    def _class_ids(self, text: str) -> tuple[list[int], int]:
        """The text's token classes (ids of ``_names``), and how many of its tokens are words."""
        out: list[int] = []
        n_words = 0
        start = True
        cache = self._cls_cache
        for tok in tokenize(text):
            c = cache.get(tok)
            if c is None:
                c = self._entry(tok)
                if len(cache) < _CLASS_CACHE:
                    cache[tok] = c
            out.append(c[0] if start else c[1])
            n_words += c[2]
            if c[3] is not None:
                start = c[3]
        return out, n_words

    def classes(self, text: str) -> tuple[list[str], int]:
        """The text as a sequence of token classes (see the module doc), and
        how many of its tokens are words."""
        ids, n_words = self._class_ids(text)
        return [self._names[i] for i in ids], n_words

    def features(self, text: str) -> tuple[dict[int, float], int]:
        """Hashed 1-3-gram counts of the class sequence (sub-linear, L2-normalised)
        and the number of word tokens (how much evidence the text holds)."""
        buckets, w, n_words = self.weights(text)
        return dict(zip(buckets.tolist(), w.tolist())), n_words

    def weights(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """``features`` as arrays: the hash buckets (ascending), their weights
        (float64) and the number of word tokens; what scoring reads, without a
        dict of the features made and read back (0.45 ms an article)."""
        classes, n_words = self._class_ids(text)
        ids = np.array([self._class_id("<s>"), *classes, self._class_id("</s>")], dtype=np.int64)
        k = _ID_SPACE
        # each n-gram as one integer (n in the top digits), counted per distinct n-gram
        grams = np.concatenate((ids + 1 * k ** 3,
                                ids[:-1] * k + ids[1:] + 2 * k ** 3,
                                (ids[:-2] * k + ids[1:-1]) * k + ids[2:] + 3 * k ** 3))
        uniq, n = np.unique(grams, return_counts=True)
        hashes = self._gram_hashes(uniq)
        # distinct n-grams may share a hash bucket: their counts add up
        buckets, inverse = np.unique(hashes, return_inverse=True)
        counts = np.bincount(inverse, weights=n).astype(np.float64)
        w = 1.0 + np.log(counts)
        w /= math.sqrt(float(w @ w)) or 1.0
        return buckets, w, n_words

    def _gram_hashes(self, grams: np.ndarray) -> np.ndarray:
        """``_gram_hash`` of each n-gram, through a direct-mapped table of the
        last n-grams seen (a slot per n-gram's multiplicative hash; a new
        n-gram takes its slot over). The table only saves time."""
        slots = ((grams.astype(np.uint64) * _SLOT_MULT) >> np.uint64(64 - _SLOT_BITS)).astype(np.int64)
        hashes = self._slot_hash[slots].astype(np.int64)
        miss = np.flatnonzero(self._slot_gram[slots] != grams)
        if miss.size:
            computed = np.array([self._gram_hash(g) for g in grams[miss].tolist()], dtype=np.int64)
            hashes[miss] = computed
            # one n-gram per slot: NumPy leaves open which of several writes to one slot lands, and the
            # n-gram and its hash must come from the same one
            at, first = np.unique(slots[miss], return_index=True)
            self._slot_gram[at] = grams[miss][first]
            self._slot_hash[at] = computed[first]
        return hashes

    def _class_id(self, cls: str) -> int:
        i = self._ids.get(cls)
        if i is None:
            if len(self._ids) >= _ID_SPACE:
                raise RuntimeError("token-class vocabulary overflow")  # classes are a closed set
            i = self._ids[cls] = len(self._ids)
            self._names.append(cls)
        return i

    def _gram_hash(self, gram: int) -> int:
        """xxh32 of the n-gram's classes joined by U+001F, seeded by n."""
        k = _ID_SPACE
        n, rest = divmod(gram, k ** 3)
        names = self._names
        key = "\x1f".join([names[(rest // k ** (n - 1 - j)) % k] for j in range(n)]).encode("utf-8", "surrogatepass")
        return xxhash.xxh32_intdigest(key, seed=n) & _HASH_MASK
