"""Evidence of machine translation that a reader can check in the text.

Each rule names what it saw and quotes it, so an analyst can verify a flag
without trusting a model: detokenisation artifacts left by MT systems
(``face -to -face``), another language's typography (``« »``, ``(…)``,
decimal commas), a credit line
naming a non-English outlet, names spelled the way another language
transliterates them, known calques, a page that declares another language
than its text, and translation-proxy traces (``translate.goog``,
``_x_tr_sl=``), and what a system copies through untranslated (kana, East
Asian full-width punctuation, words in Cyrillic).

Every rule has a weight (log-odds added to the model's) and, when it points
at one, the source language. The rules are checked against every native
English text of ``../shared/data`` (WMT original English, ECB+, the gold
texts of the extraction sets, feed items): ``benchmarks/mt_natives.py``
prints how often each fires there (none, on 2,403 texts), and a test keeps
each under 0.2% of every set.
No Beam import.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RULES", "Evidence", "find_evidence"]


@dataclass(frozen=True)
class Evidence:
    rule: str
    weight: float
    language: str | None
    message: str


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern
    weight: float
    language: str | None
    message: str  # formatted with {quote} and {count}
    min_count: int = 1
    unless: re.Pattern | None = None  # does not fire on texts where this matches
    # cheap checks before the pattern runs, each a necessary condition of a
    # match: one of ``needles`` (lower case) is in the lower-cased text, and
    # ``screen`` matches it
    needles: tuple[str, ...] = ()
    screen: re.Pattern | None = None
    # the rule fires only on texts where this matches too (searched once per text)
    gate: re.Pattern | None = None
    # a match right after this (the end of the 40 characters before it) does
    # not count: a title quoted in its own script, "(Russian: ...)"
    not_after: re.Pattern | None = None
    # a match counts only where this says so (a spaced compound, not a command-line option)
    keep: Callable[[re.Match], bool] | None = None


# Outlets that publish in one other language; a credit line naming one on an
# English page says the text came from that language.
_OUTLETS = {
    "fr": ["BFM ?TV", "BFM Business", "Le Monde", "Le Figaro", "Libération", "Liberation", "Le Parisien",
           "Ouest-France", "Les Echos", "franceinfo", "France ?Info", "TF1", "LCI", "RTL", "Europe ?1",
           "20 Minutes", "Le Point", "L'Express", "Mediapart", "La Presse", "Radio-Canada", "RTBF", "Le Soir"],
    "de": ["Der Spiegel", "Spiegel Online", "Die Zeit", "Zeit Online", "FAZ", "Frankfurter Allgemeine",
           "Süddeutsche Zeitung", "Tagesschau", "Tagesspiegel", "Bild", "Die Welt", "n-tv", "ZDF", "ARD", "Focus Online"],
    "ru": ["RIA Novosti", "Izvestia", "Kommersant", "Vedomosti", "Interfax", "Gazeta\\.ru", "Lenta\\.ru", "Meduza", "Novaya Gazeta"],
    "es": ["El País", "El Mundo", "ABC España", "La Vanguardia", "Clarín", "EFE"],
    "it": ["Corriere della Sera", "La Repubblica", "La Stampa", "ANSA"],
    "ja": ["NHK", "Asahi Shimbun", "Yomiuri Shimbun", "Mainichi Shimbun", "Kyodo"],
    "uk": ["Ukrainska Pravda", "UNIAN", "Ukrinform"],
}

# Spellings that another language's transliteration produces and English does not.
_NAMES = {
    "fr": ["Eltsine", "Gorbatchev", "Khrouchtchev", "Tchernobyl", "Pékin", "Moscou"],
    "de": ["Selenskyj", "Wladimir Putin", "Medwedew", "Dmitrij", "Chruschtschow", "Tschernobyl", "Moskau", "Kreml\\b"],
}

# "Poutine" is also Quebec's dish of fries, curds and gravy ("Poutine Week", "the Best Poutine in
# Toronto"): it is the French spelling of Putin only in a text that names Russia
_RUSSIA = re.compile(r"\b(?:Russias?|Russians?|Kremlin|Moscow|Moscou|Soviet)\b")

# Literal renderings of another language's idiom.
_CALQUES_FR = (
    r"\bexploit(?:ing|ed|s)? (?:the |its |this |these )?(?:ISS|station|stations|line|lines|reactor|plant|airport|network)\b",
    r"\bin the frame of\b",
    r"\bsub -?financing\b",
    r"\bin the distant space\b",
)


def _alt(words) -> str:
    return "|".join(words)


def _literal_prefix(pattern: str) -> str:
    """The lower-cased literal start of a simple alternative ("Kreml\\b" -> "kreml")."""
    return re.split(r"[\\?(\[ ]", pattern)[0].lower()


# "face -to -face", "sub -financing": a space before a hyphen that joins two
# words. A detokeniser leaves it in every compound it meets, so a text
# counts only with two or more such compounds; once ("hit -and-run",
# "perfect -blogging", "notices -of -levy") it is a native typo or dash.
# Each part after a hyphen has two letters or more (not a command-line flag,
# ``-d``, ``-e``) and is not an English suffix (``-like``); the first part
# is not in capitals (a menu's "CAFE CON PANNA -double espresso"); no word
# closes the phrase with a hyphen soon after ("headlines -or advertising-
# along": a dash pair).
_NOT_CAPS = r"(?<![\w-])(?![A-ZÀ-ÖØ-Þ]{2,}(?!\w))"
_DASH_PAIR = r"(?![^\n]{0,40}?\w-(?:\s|$))"
# English's own compound suffixes, which writers also space ("kanban -like",
# "cloud -based"), do not count
_NATIVE_SUFFIX = r"(?!(?:like|based|style|type|related|free|friendly|oriented|driven|specific|wide|level|made)(?![\w-]))"
_DETOK_LOWER = re.compile(
    _NOT_CAPS + r"[^\W\d]+(?: -[^\W\d]{2,})*? -" + _NATIVE_SUFFIX
    + r"[a-zß-öø-ÿ][^\W\d]+(?: -[^\W\d]{2,})*(?![\w-])" + _DASH_PAIR)
# A command-line option is written the same way ("pass -legacy", "build with -static -shared", "find
# -perm", "-march=native"), in tech news and how-tos. A detokeniser spaces a compound of words: what
# follows each hyphen is an English word (not "-flto", "-fPIC"), no value follows the match ("=", ":",
# "/"), and what comes before is not a word an option follows (an article, a preposition, a conjunction:
# "the -quality option", "with -Werror", "and -delete"), where a compound starts with a word of its own
# ("face -to -face", "well -being", "six -year", "Shell -Group").
_OPTION_LEADS = frozenset("""a an the this that these those its their his her your our my each every any no
    and or nor but than then if as to of for from in into on onto at by via with without also""".split())
_OPTION_VALUE = frozenset("=:/")


def _not_an_option(m: re.Match) -> bool:
    first = m.group(0).split(" -")[0]
    return m.string[m.end():m.end() + 1] not in _OPTION_VALUE and first.lower() not in _OPTION_LEADS


def _zipf(word: str) -> float:
    """wordfreq's ``zipf_frequency(word, "en")``, from the English table the
    MT features already hold (``wordlists``): wordfreq's own lookup loads its
    list again, hundreds of megabytes (the same values on 30,000 words)."""
    import math

    from transforms.wordlists import frequencies

    f = frequencies("en").get(word.casefold(), 0.0)
    return round(math.log10(f) + 9, 2) if f else 0.0


def _spaced_compound(m: re.Match) -> bool:
    """Whether a spaced hyphen before lower case reads as a compound a
    detokeniser split: each part after a hyphen an English word, a common
    one if it has two letters ("face -to -face"; not "-lm", "-rf", "-au")."""
    return _not_an_option(m) and all(_zipf(p) >= (5.5 if len(p) == 2 else 2.5)
                                     for p in m.group(0).split(" -")[1:])


def _spaced_name(m: re.Match) -> bool:
    """Whether a spaced hyphen before a capital reads as a name a detokeniser
    split: capitalised words ("Shell -Group", "Mexico -Stadt": a name may be
    no English word), not an option after a lower-case word ("level -Ofast",
    "incorrect -Wabi") nor an acronym ("-DNDEBUG", "-INT")."""
    first, *parts = m.group(0).split(" -")
    return (_not_an_option(m) and first[:1].isupper() and not first.isupper()
            and not any(p.isupper() for p in parts))


_DETOK_CAPITAL = re.compile(_NOT_CAPS + r"[^\W\d]+(?: -[A-ZÀ-ÖØ-Þ][^\W\d]+)+(?![\w-])" + _DASH_PAIR)
_CJK = "\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff"
# kana in a run of its own (the run's start: not after another CJK letter)
_KANA = re.compile(rf"(?<![{_CJK}])[{_CJK}]*[\u3041-\u3096\u30a1-\u30fa\u30fc]{{2,}}")
# what comes before a foreign word a native writer quotes on purpose: a
# quotation mark or bracket, or "(Russian: ", then maybe more words of it
_QUOTE_OPENERS = r"(?:[\"“‘'«「『(（\[]|\b(?:Japanese|Russian|Ukrainian|Chinese|Korean|Cyrillic|lit\.|Hepburn)\s*[:,]?\s*)"
_QUOTED = re.compile(_QUOTE_OPENERS + "$", re.IGNORECASE)
_QUOTED_CYRILLIC = re.compile(_QUOTE_OPENERS + r"[\u0400-\u04FF\s-]*$", re.IGNORECASE)
# East Asian full-width punctuation on English words: a system keeps the source's marks around or
# between what it translated ("【Official】", "＜Yamatsuri Town＞", "air!」", "¥1,200、¥1,500"); marks
# around or inside East Asian text are a writer quoting it ("the novel 《三体》", "『君の名は。』")
_CJK_OPEN, _CJK_CLOSE, _CJK_MARKS = "【「『〈《〔＜（", "】」』〉》〕＞）", "、。・！？：；"
_CJK_PUNCT = re.compile(rf"[{_CJK_OPEN}] ?[A-Za-z0-9]|[A-Za-z0-9!-/:-@] ?[{_CJK_CLOSE}]"
                        rf"|[A-Za-z0-9] ?[{_CJK_MARKS}]|[{_CJK_MARKS}] ?[A-Za-z0-9]")
# any of the marks (a plain class: the pattern above would try at every letter of every text)
_CJK_PUNCT_SCREEN = re.compile(f"[{_CJK_OPEN}{_CJK_CLOSE}{_CJK_MARKS}]")
_CYRILLIC_WORD = re.compile(r"\b[\u0400-\u04FF]{2,}\b")
# Screens: cheap necessary conditions, searched once per text before the
# rules that need them (a plain character class scans far faster than a
# pattern that tries a look-behind at every position): a hyphen right after
# a space and before a letter (both detokenisation rules), two kana, two
# Cyrillic letters in a row (the Cyrillic rules' gate, a Cyrillic word, needs them)
_SPACED_HYPHEN_SCREEN = re.compile(r" -[^\W\d]")
_KANA_SCREEN = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]{2}")
_CYRILLIC_SCREEN = re.compile(r"[\u0400-\u04FF]{2}")

# A credit line: "Source: ...", "With: ..." at the start of a line; one scan
# for all the outlet rules below
# (blanks after the line break, not white space: "\s*" after each of 20,000 line breaks in a row
# read all the ones after it, 12 s)
_CREDIT_LINE = re.compile(r"(?:^|\n)[^\S\n]*(?:Source|Sources|With|Avec|Quelle|Источник)[^\S\n]*:", re.IGNORECASE)


RULES: tuple[_Rule, ...] = (
    # English has "fourth- and eighth-graders", "57 - year", never this.
    _Rule("detokenisation", _DETOK_LOWER, 2.5, None,
          "spacing left by a translation system around hyphens: {quote}", 2, needles=(" -",),
          screen=_SPACED_HYPHEN_SCREEN, keep=_spaced_compound),
    # Before a capital it is also a native typist's dash ("his official
    # residence -Cauvery"): "Shell -Group" twice, with no lower-case part.
    _Rule("detokenisation_capitalised", _DETOK_CAPITAL, 2.5, None,
          "spacing left by a translation system around hyphens: {quote}", 2, needles=(" -",),
          screen=_SPACED_HYPHEN_SCREEN, keep=_spaced_name),
    # a phrase, not a URL or a code quoted between them, nor a pager or menu
    # between arrows ("« previous page | 1 | 2 | next page »")
    _Rule("guillemets_spaced", re.compile(r"«\s[^»\n|]{0,100}[^\W\d]{2,} [^\W\d]{2,}[^»\n|]{0,100}\s»"), 1.5, "fr",
          "French guillemets with inner spaces: {quote}", needles=("«",)),
    # what a translation puts between them is English: a quote kept in its own script (a slogan
    # «Россия без Путина», an outlet «Коммерсантъ») is a writer quoting, as the Cyrillic rule reads it
    _Rule("guillemets", re.compile(r"«(?=[^»\n]{0,201}[A-Za-z])[^\s»][^»\n]{0,200}[^\s«]»"), 1.5, None,
          "guillemet quotation marks: {quote}", needles=("«",)),
    # not what code leaves out: a call's arguments ("feed(...)"), "$(...)", "__attribute__((...))"
    _Rule("ellipsis_in_parentheses", re.compile(r"(?<![\w.\])$(])\((?:…|\.\.\.)\)"), 1.5, "fr",
          "omission marked '(…)' as the French press does: {quote}", needles=("(…)", "(...)")),
    _Rule("decimal_comma", re.compile(
        # (\b\d{1,3},... with its first digit first and the \b as a lookbehind after it: re skips to the next
        # digit in C rather than trying \b at every character, the same matches in a third of the time)
        r"\d(?<!\w\d)\d{0,2},\d{1,2} ?(?:%|percent|per cent|million|billion|euros?|degrees|km|kilometres|kilometers|hours?)"),
        1.5, None, "decimal comma: {quote}", needles=(",",)),
    *(
        _Rule(f"credit_{lang}", re.compile(rf"(?:^|\n)[^\S\n]*(?:Source|Sources|With|Avec|Quelle|Источник)[^\S\n]*:[^\S\n]*(?:{_alt(names)})\b",
                                           re.IGNORECASE), 2.5, lang,
              "credit line naming a non-English outlet: {quote}", gate=_CREDIT_LINE)
        for lang, names in _OUTLETS.items()
    ),
    *(
        _Rule(f"transliteration_{lang}", re.compile(rf"\b(?:{_alt(names)})\b"), 1.5, lang,
              "name spelled as another language transliterates it: {quote}",
              needles=tuple(sorted({_literal_prefix(n) for n in names})))
        for lang, names in _NAMES.items()
    ),
    _Rule("transliteration_fr_putin", re.compile(r"\bPoutine\b"), 1.5, "fr",
          "name spelled as another language transliterates it: {quote}", needles=("poutine",), gate=_RUSSIA),
    _Rule("calque_fr", re.compile(_alt(_CALQUES_FR), re.IGNORECASE), 1.0, "fr",
          "French idiom rendered word for word: {quote}",
          needles=("exploit", "frame of", "financing", "distant space")),
    # What a translation system copies through when it cannot translate it:
    # kana, East Asian full-width punctuation, words in Cyrillic. Han
    # characters alone do not count: English pages give names in them.
    _Rule("kana", _KANA, 1.5, "ja", "Japanese kana left in the English text: {quote}", screen=_KANA_SCREEN,
          not_after=_QUOTED),
    _Rule("cjk_punctuation", _CJK_PUNCT, 1.5, None, "East Asian full-width punctuation in the English text: {quote}",
          screen=_CJK_PUNCT_SCREEN),
    _Rule("cyrillic", _CYRILLIC_WORD, 1.5, None, "words in Cyrillic left in the English text: {quote}", 2,
          screen=_CYRILLIC_SCREEN, gate=_CYRILLIC_WORD, not_after=_QUOTED_CYRILLIC),
    # which Cyrillic: letters only Ukrainian or only Russian has (name the language, weigh little);
    # the gate, shared with the rule above, is searched once per text
    _Rule("cyrillic_uk", re.compile(r"\b[\u0400-\u04FF]*[іїєґІЇЄҐ][\u0400-\u04FF]*\b"), 0.25, "uk",
          "Ukrainian letters in {quote}", screen=_CYRILLIC_SCREEN, gate=_CYRILLIC_WORD,
          not_after=_QUOTED_CYRILLIC),
    _Rule("cyrillic_ru", re.compile(r"\b[\u0400-\u04FF]*[ыэъёЫЭЪЁ][\u0400-\u04FF]*\b"), 0.25, "ru",
          "Russian letters in {quote}", screen=_CYRILLIC_SCREEN, gate=_CYRILLIC_WORD,
          not_after=_QUOTED_CYRILLIC),
)

# What Google's translation proxy leaves in URLs and pages it served.
PROXY_MARKERS = ("_x_tr_sl=", ".translate.goog", "translated-ltr", "translated-rtl")
_PROXY_LANG = re.compile(r"[?&]_x_tr_sl=([a-z]{2,3})", re.IGNORECASE)


def _quote(m: re.Match, text: str) -> str:
    s = m.group(0).strip()
    if len(s) < 40:  # show a little context around short matches
        a = max(0, m.start() - 25)
        b = min(len(text), m.end() + 25)
        s = text[a:b].replace("\n", " ").strip()
    if len(s) > 80:
        s = s[:77] + "..."
    return f'"{s}"'


# ISO 639 codes that name no one language: undetermined, several, no linguistic content, uncoded
_NO_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})


def declared_source(tag: str) -> str | None:
    """The language other than English that a declared tag names, as its
    shortest code (``fr_FR``, ``fre``, ``fra`` -> ``fr``; ``iw`` -> ``he``), by
    langcodes; None for English in any spelling (``eng``, ``EN_us``), for a code
    that names no language (``und``, ``mul``, ``zxx``, ``mis``, private use
    ``qaa``-``qtz``, ``x-...``) and for what is no language tag (``xx``,
    ``??``). Of a list (``fr-FR, en``) the first tag counts."""
    import langcodes
    from langcodes.tag_parser import LanguageTagError

    first = re.split(r"[\s,;]", tag.strip(), maxsplit=1)[0].replace("_", "-")
    try:
        lang = langcodes.Language.get(first, normalize=True)
    except (LanguageTagError, ValueError):
        return None
    code = lang.language
    if (not code or not code.isalpha() or len(code) not in (2, 3) or not lang.is_valid()
            or code == "en" or code in _NO_LANGUAGE or "qaa" <= code <= "qtz"):
        return None
    return code


def find_evidence(
    text: str,
    *,
    urls: tuple[str | None, ...] = (),
    declared_language: str | None = None,
    text_language: str | None = None,
    proxy_hint: str | None = None,
) -> list[Evidence]:
    """All evidence found, strongest first (ties in rule order)."""
    found: list[Evidence] = []
    lower = text.lower()
    # whether a pattern matches the text, searched once per text: gates are
    # shared by rules, and an ``unless`` is often another rule's pattern
    matched: dict[re.Pattern, bool] = {}

    def matches_text(pattern: re.Pattern) -> bool:
        if pattern not in matched:
            matched[pattern] = pattern.search(text) is not None
        return matched[pattern]

    for rule in RULES:
        if rule.needles and not any(n in lower for n in rule.needles):
            continue
        if rule.screen is not None and not matches_text(rule.screen):
            continue
        if rule.gate is not None and not matches_text(rule.gate):
            continue
        if rule.unless is not None and matches_text(rule.unless):
            continue
        matches = list(rule.pattern.finditer(text))
        matched[rule.pattern] = bool(matches)
        if rule.not_after is not None:
            matches = [m for m in matches if not rule.not_after.search(text, max(0, m.start() - 40), m.start())]
        if rule.keep is not None:
            matches = [m for m in matches if rule.keep(m)]
        if len(matches) < rule.min_count:
            continue
        msg = rule.message.format(quote=_quote(matches[0], text), count=len(matches))
        if len(matches) > 1:
            msg += f" ({len(matches)} times)"
        found.append(Evidence(rule.name, rule.weight, rule.language, msg))
    for url in (*urls, proxy_hint):
        if url and any(m in url.lower() for m in PROXY_MARKERS):
            lang = _PROXY_LANG.search(url)
            src = lang.group(1).lower() if lang else None
            found.append(Evidence("translation_proxy", 4.0, src if src != "auto" else None,
                                  f"served through a translation proxy: {url[:120]!r}"))
            break
    if declared_language and text_language and text_language == "en":
        declared = declared_source(declared_language)
        if declared is not None:
            found.append(Evidence("declared_language", 1.5, declared,
                                  f"the page declares language '{declared_language}' but its text is English"))
    found.sort(key=lambda e: -e.weight)
    return found
