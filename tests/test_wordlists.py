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


def test_a_word_listed_in_two_bands_keeps_the_rarer_as_the_dict_does():
    from wordfreq import cB_to_freq

    table = FrequencyTable([["news", "story"], ["wire"], ["story"]])
    assert table.get("news") > table.get("wire") > table.get("story") == cB_to_freq(-2)
    assert FrequencyTable([]).get("news") is None and FrequencyTable([]).get_many(["news"]) == [0.0]
