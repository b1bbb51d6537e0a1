"""Which language a machine-translated English article came from, by the cues
a reader uses.

A translated article keeps the traces of where it was written: how names were
transliterated (``Kyiv``, ``Volodymyr``, ``Oleksii`` from Ukrainian), the
currency it counts in (hryvnias, rubles, yen, krónur), its institutions
(Verkhovna Rada, State Duma, Bundestag, Althing), the press it quotes
(Kommersant, NHK), its places, and letters a system copies through (``ð``,
``ß``).
Each cue below names one source language and has a weight; a text's score
for a language is the sum of the weights of the distinct cues it holds.
``guess`` gives the best language only when it is clearly ahead, else None.

``features`` turns a text into what the source-language classifier of
``transforms.mtmodel`` reads (trained by ``scripts/train_mt.py``): the
spelling of its capitalised words (character 3- and 4-grams: how names were
transliterated, ``Oleksandr`` against ``Aleksandr``, ``-skyi`` against
``-sky``), the capitalised words themselves, its lower-case words (the
turns of phrase a source language leaves, "it is noted that"), and the cue
scores above. Hashed with xxh32 (fixed seed) into ``2**FEATURE_BITS`` slots.

The lists were written from what translators and readers know, then
revised on the errors they made on WMT news of 2008-2021 (places that every
outlet names weigh 1; international agencies are no cue) and once on 2022's
(Russian spellings of Ukrainian places, which systems give for both
languages, are no cue); ``scripts/train_mt.py`` measures them on the flagged
2022 WMT news, held out from the model, and ``docs/mt_model.md`` on every
year. Only for articles the
detector has already flagged: native English about Japan is not Japanese.
No Beam import.
"""
from __future__ import annotations

import functools
import math
import re

import xxhash

__all__ = ["CUES", "FEATURE_BITS", "FEATURE_SCHEME", "MAX_FEATURE_CHARS", "clear_lead", "features", "features_and_cues",
           "guess", "scores"]

FEATURE_BITS = 18
# names the features below: a model file trained on others is not used with them
FEATURE_SCHEME = "source-caps-ngrams-words-cues/v1"
MAX_FEATURE_CHARS = 20_000
_HASH_SEED = 20261203
_WORD = re.compile(r"[^\W\d_][\w'’-]*")

# (language, weight, words): whole words or phrases, case-sensitive. Weight
# 2: a spelling, currency or institution of that language alone; 1: a place
# or name that points to it, and that news translated from other languages
# also names (Paris, Moscow, Japan).
_CUE_LISTS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("uk", 2.0, (
        # Ukrainian transliteration (Russian would give Kiev, Kharkov, Vladimir, Alexei ...)
        "Kyiv", "Kyivan", "Kharkiv", "Lviv", "Odesa", "Mykolaiv", "Dnipro", "Zaporizhzhia", "Zaporizhia",
        "Chernihiv", "Luhansk", "Ivano-Frankivsk", "Ternopil", "Vinnytsia", "Zhytomyr", "Kropyvnytskyi",
        "Khmelnytskyi", "Uzhhorod", "Chernivtsi", "Volodymyr", "Oleksandr", "Oleksii", "Oleksiy", "Serhii",
        "Serhiy", "Mykhailo", "Mykola", "Dmytro", "Andrii", "Andriy", "Yurii", "Vitalii", "Hryhorii", "Yevhen",
        "Oleh", "Vasyl", "Yuliia", "Iryna", "Kateryna", "Tetiana", "Zelenskyi",
        # currency and institutions
        "hryvnia", "hryvnias", "hryvnas", "hryvni", "UAH", "Verkhovna Rada", "Ukrzaliznytsia", "Naftogaz",
        "ZSU", "AFU", "Armed Forces of Ukraine", "ruscists", "rashists", "Ukrenergo", "Ukrposhta",
        "PrivatBank", "Diia", "hromada",
        # what Ukrainian news calls the Russian army (WMT 2022 news: 15 uk-en translations, no ru-en one)
        "occupiers", "occupier",
    )),
    ("ru", 2.0, (
        # (Russian spellings of Ukrainian places, Kiev, Kharkov, are no cue:
        # they were English's own until 2019, and systems give them for
        # Ukrainian sources too; 11 of 2022's Ukrainian-to-English WMT news
        # documents say Kiev, against 7 of the Russian ones)
        # currency and institutions
        "ruble", "rubles", "rouble", "roubles", "State Duma", "Federation Council", "Roskomnadzor",
        "Rosstat", "Rosgvardia", "Rospotrebnadzor", "Rosaviatsia", "Investigative Committee of Russia",
        "special military operation", "DPR", "LPR", "Muscovites", "Yekaterinburg", "Novosibirsk",
        "Nizhny Novgorod", "Krasnodar", "Chelyabinsk", "Krasnoyarsk", "Voronezh", "Tatarstan",
        "Bashkiria", "Kuzbass", "Yakutia", "Primorye", "Sobyanin", "Mishustin",
    )),
    # ("Russian Federation" is no cue: in 2022 more uk-en than ru-en translations say it, 25 to 12)
    ("ru", 1.0, ("Moscow", "Kremlin", "St. Petersburg", "Gazprom", "Sberbank",
                 "Vladimir Zelensky")),
    ("ja", 2.0, (
        "yen", "Reiwa", "Heisei", "prefecture", "Prefecture", "prefectural", "Shinkansen",
        "Liberal Democratic Party", "Komeito", "izakaya", "Osaka", "Nagoya", "Yokohama", "Sapporo",
        "Fukuoka", "Sendai", "Hokkaido", "Kyushu", "Shikoku", "Chiba", "Saitama", "Kanagawa", "Hyogo",
        "Shizuoka", "Niigata", "Nagano", "Kishida", "Koike",
    )),
    ("ja", 1.0, ("Japan", "Tokyo", "Kyoto", "Okinawa", "Fukushima", "Hiroshima", "Abe", "Suga", "Tanaka",
                 "Suzuki", "Sato", "Takahashi", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Yamada",
                 "Yoshida", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu")),
    ("de", 2.0, (
        "Bundestag", "Bundesrat", "Bundeswehr", "CDU", "CSU", "SPD", "FDP", "AfD", "Federal Chancellor",
        "Söder", "Bavarian", "Saxony", "Thuringia", "Hesse", "Baden-Württemberg", "North Rhine-Westphalia",
        "Lower Saxony", "Schleswig-Holstein", "Rhineland-Palatinate", "Saarland", "Deutsche Bahn",
        "Stuttgart", "Düsseldorf", "Dresden", "Leipzig", "Hanover", "Nuremberg",
    )),
    ("de", 1.0, ("Germany", "Berlin", "Munich", "Hamburg", "Cologne", "Bavaria", "Austria", "Vienna")),
    ("fr", 2.0, (
        "Élysée", "Elysee", "Matignon", "Mélenchon", "SNCF", "RATP", "gendarmes", "gendarmerie",
        "Gendarmerie", "prefect", "Île-de-France", "CAC 40", "Marseille", "Toulouse", "Nantes",
        "Montpellier", "Strasbourg", "Lille", "Corsica", "Wallonia",
    )),
    ("fr", 1.0, ("France", "Paris", "Macron", "Hollande", "Sarkozy", "Lyon", "Bordeaux", "Brittany",
                 "Normandy", "Provence")),
    ("is", 2.0, (
        "Iceland", "Icelandic", "Icelanders", "Reykjavík", "Reykjavik", "Althing", "Alþingi", "ISK",
        "krónur", "krona", "kronur", "Akureyri", "Kópavogur", "Hafnarfjörður", "Keflavík", "Keflavik",
        "Westfjords", "Landspítali",
    )),
)

# Outlets that publish in one language: a translated article quotes its own
# country's press ("writes Kommersant"). International agencies that English
# news cites every day (AFP, dpa) are left out.
_OUTLET_CUES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("ru", 2.0, ("RIA Novosti", "Izvestia", "Kommersant", "Vedomosti", "Interfax", "Gazeta.ru", "Lenta.ru",
                 "Meduza", "Novaya Gazeta", "TASS", "Rossiyskaya Gazeta", "Moskovsky Komsomolets",
                 "Moscow region", "Moscow Region")),
    ("uk", 2.0, ("Ukrainska Pravda", "UNIAN", "Ukrinform", "Suspilne", "Hromadske")),
    ("de", 2.0, ("Der Spiegel", "Spiegel Online", "Die Zeit", "Zeit Online", "Frankfurter Allgemeine",
                 "Süddeutsche Zeitung", "Tagesschau", "Tagesspiegel", "Die Welt", "ZDF", "ARD")),
    ("fr", 2.0, ("Le Monde", "Le Figaro", "Libération", "Le Parisien", "Ouest-France", "Les Echos", "franceinfo",
                 "BFM TV", "BFMTV", "TF1", "Le Point", "L'Express", "Mediapart")),
    ("ja", 2.0, ("NHK", "Asahi Shimbun", "Yomiuri Shimbun", "Mainichi Shimbun", "Kyodo", "Nikkei", "Jiji")),
    ("is", 2.0, ("RÚV", "Morgunblaðið", "Morgunbladid", "Fréttablaðið", "Vísir", "Visir")),
)

# Each pattern opens with the class of its first letter and looks behind after it (a word boundary before a
# capital is "no word character before it"): re skips to the next capital in C, where a word boundary first was
# tried at every character of the text (the same matches)
_CHAR_CUES: tuple[tuple[str, float, re.Pattern], ...] = (
    # names spelled with letters of one language, as systems copy them through
    ("is", 2.0, re.compile(r"[ðþÐÞ]")),
    ("is", 1.0, re.compile(r"[A-ZÁÉÍÓÚÝÆÖ](?<!\w.)[a-záéíóúýæö]+(?:sson|dóttir|dottir)\b")),
    ("de", 1.0, re.compile(r"[A-ZÄÖÜ](?<!\w.)[a-zäöüß]*ß[a-zäöüß]*\b")),
    ("uk", 2.0, re.compile(r"[A-Z](?<!\w.)[a-z]+(?:skyi|tskyi|zkyi)\b")),  # Khmelnytskyi, Zelenskyi
)


def _compile(words: tuple[str, ...]) -> re.Pattern:
    """The words as a pattern: a match stands alone (no word character or
    hyphen on either side); at one place the longest word first. The words
    are grouped by their first character, which the pattern opens with, and
    the look behind comes after it: re skips in C to the next place one of
    them starts, where a look behind first was tried at every character (the
    same matches: only the words that begin with the character at a place
    can match there, tried in the same order)."""
    ordered = sorted(words, key=len, reverse=True)
    groups: dict[str, list[str]] = {}
    for w in ordered:
        groups.setdefault(w[0], []).append(w[1:])
    branches = [re.escape(c) + r"(?<![\w-].)(?:" + "|".join(re.escape(rest) for rest in rests) + ")"
                for c, rests in groups.items()]
    return re.compile("(?:" + "|".join(branches) + r")(?![\w-])")


CUES: tuple[tuple[str, float, re.Pattern], ...] = tuple(
    (lang, w, _compile(words)) for lang, w, words in _CUE_LISTS + _OUTLET_CUES) + _CHAR_CUES

# A cue can match only where its first run of word characters stands alone
# in the text (the patterns' boundaries say so): the word lists' patterns are
# run only on texts holding one of their first runs (None: always run)
_RUN = re.compile(r"[\w-]+")
_ANCHORS: tuple[frozenset[str] | None, ...] = tuple(
    frozenset(_RUN.match(w).group(0) for w in words) for _, _, words in _CUE_LISTS + _OUTLET_CUES
) + (None,) * len(_CHAR_CUES)

STRONG = 2.0  # the best language needs one cue of this weight ...
MIN_SCORE = 2.0  # ... a score of two ...
MIN_RATIO = 3.0  # ... and three times the score of the next language


def scores(text: str) -> dict[str, tuple[float, float]]:
    """Each language's (score, strongest cue's weight): the score is the sum
    of the weights of the distinct cues in ``text``."""
    out: dict[str, tuple[float, float]] = {}
    runs = set(_RUN.findall(text))
    for (lang, weight, pattern), anchors in zip(CUES, _ANCHORS):
        if anchors is not None and runs.isdisjoint(anchors):
            continue
        found = {m.group(0) for m in pattern.finditer(text)}
        if found:
            total, strongest = out.get(lang, (0.0, 0.0))
            out[lang] = (total + weight * len(found), max(strongest, weight))
    return out


def guess(text: str, min_score: float = MIN_SCORE, min_ratio: float = MIN_RATIO) -> str | None:
    """The source language when one is clearly ahead and has a cue of its own
    (weight 2: a place every outlet names is not enough), else None."""
    return clear_lead(scores(text), min_score, min_ratio)


def clear_lead(s: dict[str, tuple[float, float]], min_score: float = MIN_SCORE,
               min_ratio: float = MIN_RATIO) -> str | None:
    """``guess`` from a text's ``scores``."""
    if not s:
        return None
    ranked = sorted(s.items(), key=lambda kv: (-kv[1][0], kv[0]))
    best, (top, strongest) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    if top >= min_score and strongest >= STRONG and top >= min_ratio * second:
        return best
    return None


@functools.lru_cache(maxsize=1 << 15)  # a pure function of the key: the cache changes no result
def _slot(key: str) -> int:
    return xxhash.xxh32_intdigest(key.encode("utf-8", "surrogatepass"), seed=_HASH_SEED) & ((1 << FEATURE_BITS) - 1)


@functools.lru_cache(maxsize=1 << 15)  # a pure function of the word: names recur from article to article
def _name_keys(tok: str) -> tuple[str, ...]:
    """A capitalised word's features: its character 3- and 4-grams (with ^ and
    $ at its ends, lower-cased) and the word itself, in that order."""
    w = "^" + tok.lower() + "$"
    return (*("c" + w[j:j + n] for n in (3, 4) for j in range(len(w) - n + 1)), "W" + tok)


def features(text: str) -> dict[int, float]:
    """Hashed features of ``text`` for the source-language classifier: each
    present feature 1 (a cue language's score, capped at 6, halved), summed
    where slots collide, all divided by the square root of their number."""
    return features_and_cues(text)[0]


def features_and_cues(text: str) -> tuple[dict[int, float], dict[str, tuple[float, float]]]:
    """(``features``, ``scores``) of the first ``MAX_FEATURE_CHARS`` of
    ``text``: the cues are found once for both."""
    keys: dict[str, float] = {}
    text = text[:MAX_FEATURE_CHARS]
    for tok in dict.fromkeys(_WORD.findall(text)):  # each word once, in the text's order
        if tok[0].isupper() and not tok.isupper() and len(tok) > 2:
            for key in _name_keys(tok):
                keys[key] = 1.0
        elif tok.islower():
            keys["w" + tok] = 1.0
    cues = scores(text)
    for lang, (score, _) in cues.items():
        keys["cue" + lang] = min(score, 6.0) / 2.0
    if not keys:
        return {}, cues
    norm = 1.0 / math.sqrt(len(keys))
    out: dict[int, float] = {}
    for key in sorted(keys):  # one order of float sums wherever slots collide
        slot = _slot(key)
        out[slot] = out.get(slot, 0.0) + keys[key] * norm
    return out, cues
