"""The compact word-frequency tables give wordfreq's own frequencies."""
import random

from wordfreq import get_frequency_dict, get_frequency_list

from transforms.wordlists import FrequencyTable, frequencies


def test_table_gives_wordfreqs_frequencies_for_every_word_and_none_for_others():
    table = frequencies("fr")
    expected = get_frequency_dict("fr", wordlist="best")
    get_frequency_list.cache_clear()
    assert len(table) == len(expected)
    words = list(expected)
    sample = random.Random(0).sample(words, 5000) + ["le", "de", words[-1]]
    assert [table.get(w) for w in sample] == [expected[w] for w in sample]
    assert table.get_many(sample) == [expected[w] for w in sample]
    assert table.get("zzqxv-not-a-word") is None and table.get("zzqxv-not-a-word", 0.0) == 0.0
    assert table.get_many(["zzqxv-not-a-word", "le"]) == [0.0, expected["le"]]
    assert table.nbytes < 16 * len(table)  # about 10 bytes a word, not a dict's ~150


def test_a_list_read_as_bytes_makes_the_table_wordfreqs_own_text_makes(tmp_path):
    """Tables are built from wordfreq's list files read as UTF-8 bytes (no
    decoding, no import of wordfreq): the same arrays as from wordfreq's own
    reading, in scripts with accents, Cyrillic and CJK; a file of another
    format is left to wordfreq."""
    import gzip

    import msgpack
    import numpy as np

    from transforms.wordlists import _best_lists, _read_cbpack

    for lang in ("fr", "ru", "ja"):
        raw = _read_cbpack(_best_lists()[lang])
        assert raw and isinstance(raw[-1][0], bytes)
        ours, theirs = FrequencyTable(raw), FrequencyTable(get_frequency_list(lang, wordlist="best"))
        get_frequency_list.cache_clear()
        assert np.array_equal(ours._hashes, theirs._hashes) and np.array_equal(ours._bands, theirs._bands)
        assert ours._freq == theirs._freq
    other = tmp_path / "other.msgpack.gz"
    other.write_bytes(gzip.compress(msgpack.packb([{"format": "cB", "version": 2}, ["news"]])))
    assert _read_cbpack(str(other)) is None and _read_cbpack(None) is None
    assert _read_cbpack(str(tmp_path / "list.txt")) is None


def test_a_word_listed_in_two_bands_keeps_the_rarer_as_the_dict_does():
    from wordfreq import cB_to_freq

    table = FrequencyTable([["news", "story"], ["wire"], ["story"]])
    assert table.get("news") > table.get("wire") > table.get("story") == cB_to_freq(-2)
    assert FrequencyTable([]).get("news") is None and FrequencyTable([]).get_many(["news"]) == [0.0]


def test_a_table_is_kept_on_disk_and_read_back_the_same(tmp_path, monkeypatch, caplog):
    import glob

    import numpy as np

    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    frequencies.cache_clear()
    try:
        built = frequencies("ca")
        (path,) = glob.glob(str(tmp_path / "wordfreq" / "wordfreq-*-ca-*.npz"))
        frequencies.cache_clear()
        read = frequencies("ca")
        assert read is not built
        assert np.array_equal(read._hashes, built._hashes) and np.array_equal(read._bands, built._bands)
        assert read._freq == built._freq and read.get("casa") == built.get("casa") > 0

        with open(path, "wb") as f:  # a torn file: rebuilt, said, and replaced
            f.write(b"PK\x03\x04 not a zip")
        frequencies.cache_clear()
        again = frequencies("ca")
        assert np.array_equal(again._hashes, built._hashes)
        assert "unreadable" in caplog.text
        frequencies.cache_clear()
        assert np.array_equal(frequencies("ca")._bands, built._bands)
    finally:
        frequencies.cache_clear()


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(blocker))
    frequencies.cache_clear()
    try:
        assert frequencies("ca").get("casa") > 0
        assert "not written" in caplog.text
    finally:
        frequencies.cache_clear()


def test_the_lists_and_bands_are_wordfreqs_own_without_importing_it(tmp_path):
    """wordlists finds and reads wordfreq's lists and band frequencies itself,
    so that a process never imports wordfreq (0.4-0.8 s a process), whether
    it builds a table or reads it from the disk cache."""
    import os
    import subprocess
    import sys

    from wordfreq import available_languages, cB_to_freq

    from transforms.wordlists import _best_lists, available, band_frequencies

    assert _best_lists() == available_languages("best") and available() == frozenset(available_languages())
    assert band_frequencies(1000) == [cB_to_freq(-i) for i in range(1000)]
    env = {**os.environ, "NEWSBEAM_CACHE_DIR": str(tmp_path)}
    probe = ("import sys; from transforms.wordlists import frequencies; f = frequencies('en'); "
             "print('wordfreq' in sys.modules, f.get('the'))")
    first = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[0] == "False"  # built from wordfreq's file, read without wordfreq
    assert again.stdout.split() == ["False", first.stdout.split()[1]]  # read back from the cache: the same


def test_a_language_is_read_with_wordfreqs_list_of_it_under_any_of_its_codes():
    """langdetect names Croatian ``hr`` and Norwegian ``no``; wordfreq keeps them
    as ``sh`` and ``nb``. A language wordfreq lacks gets no list (not the
    nearest language a reader might fall back on), nor does a code that is not one."""
    from transforms.stories import anchors, term_vector
    from transforms.wordlists import list_language

    same = {"hr": "sh", "sr": "sh", "bs": "sh", "no": "nb", "tl": "fil", "zh-cn": "zh", "pt-BR": "pt", "en": "en",
            "is": "is"}
    assert {code: list_language(code) for code in same} == same
    assert [list_language(c) for c in ("cy", "sw", "eu", "nn", "und", "xx", "", None, "not a tag")] == [None] * 9
    text = ("Vlada je u utorak objavila da će novi zakon o energetici stupiti na snagu sljedećeg mjeseca, "
            "a ministar Tomislav Horvat rekao je kako će cijene struje ostati iste do kraja godine.")
    assert term_vector(text, None, "hr") == term_vector(text, None, "sh")
    assert term_vector(text, None, "hr") != term_vector(text, None, "cy")  # read with English's list
    # "kako" (how) is common Croatian: no weight with its own list, rare by English's
    assert "kako" not in dict(term_vector(text, None, "hr")) and "kako" in dict(term_vector(text, None, "cy"))
    assert "energetici" in dict(term_vector(text, None, "hr"))
    assert anchors(text, None, "hr") == anchors(text, None, "sh")
