"""Stories: same event shares a story_id, other events do not, earlier runs keep theirs."""
import json

from conftest import SEEDS, read_table
from pipeline.cli import run
from test_dedup import BASE, SAME_STORY
from transforms.stories import cosine, term_vector

OTHER = ("A magnitude 6.1 earthquake struck off the coast of Chile early on Sunday, the national seismology "
         "centre said, shaking buildings in Valparaiso and Santiago. There were no immediate reports of damage "
         "or casualties, and the navy said no tsunami warning had been issued for the Pacific coast. Residents "
         "in Concepcion described the tremor as long but gentle, and power was briefly cut in two districts.")


def test_term_vectors_weigh_names_over_common_words():
    v = dict(term_vector("The minister said the minister will meet Roscosmos chief Bakanov in Houston on Monday."))
    assert v["bakanov"] > v.get("minister", 0) and "the" not in v and "said" not in v
    assert cosine(term_vector(BASE), term_vector(SAME_STORY)) > 0.35 > cosine(term_vector(BASE), term_vector(OTHER))


def test_seeds_are_one_story(tmp_path):
    run(["--input", SEEDS, "--output", str(tmp_path / "out")], quiet=True)
    rows = read_table(str(tmp_path / "out"), "articles")
    assert len(rows) == 5 and len({r["story_id"] for r in rows}) == 1
    assert not any(r["is_duplicate"] for r in rows)


def test_stories_across_runs(tmp_path):
    out = str(tmp_path / "out")
    (tmp_path / "a.jsonl").write_text(json.dumps({"url": "https://a.example/1", "text": BASE}) + "\n"
                                      + json.dumps({"url": "https://a.example/2", "text": OTHER}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"url": "https://b.example/1", "text": SAME_STORY}) + "\n")
    run(["--input", str(tmp_path / "a.jsonl"), "--output", out], quiet=True)
    run(["--input", str(tmp_path / "b.jsonl"), "--output", out], quiet=True)
    rows = {r["url"]: r for r in read_table(out, "articles")}
    first = rows["https://a.example/1"]
    assert first["story_id"] == first["doc_id"]  # a story is named after its first article
    assert rows["https://b.example/1"]["story_id"] == first["story_id"]
    assert rows["https://a.example/2"]["story_id"] != first["story_id"]
