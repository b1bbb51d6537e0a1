"""Stories (transforms.stories, not yet wired into `newsbeam run`): same event shares a story_id,
other events do not, earlier runs keep theirs."""
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from conftest import beam_test_pipeline
from test_dedup import BASE, SAME_STORY
from transforms.stories import StoryGroups, cosine, term_vector

OTHER = ("A magnitude 6.1 earthquake struck off the coast of Chile early on Sunday, the national seismology "
         "centre said, shaking buildings in Valparaiso and Santiago. There were no immediate reports of damage "
         "or casualties, and the navy said no tsunami warning had been issued for the Pacific coast. Residents "
         "in Concepcion described the tremor as long but gentle, and power was briefly cut in two districts.")


def test_term_vectors_weigh_names_over_common_words():
    v = dict(term_vector("The minister said the minister will meet Roscosmos chief Bakanov in Houston on Monday."))
    assert v["bakanov"] > v.get("minister", 0) and "the" not in v and "said" not in v
    assert cosine(term_vector(BASE), term_vector(SAME_STORY)) > 0.35 > cosine(term_vector(BASE), term_vector(OTHER))


def _rec(doc_id, text, **extra):
    return {"doc_id": doc_id, "dup_cluster_id": doc_id, "terms": term_vector(text), **extra}


def test_story_groups_keep_earlier_story_ids():
    old = _rec("m-old", BASE, old=True, story_id="s-first")
    new = [_rec("b-new", SAME_STORY), _rec("c-other", OTHER), _rec("a-copy", BASE + " Updated.")]
    with beam_test_pipeline() as p:
        got = (p | "New" >> beam.Create(new), p | "Old" >> beam.Create([old])) | StoryGroups()
        assert_that(got, equal_to([("b-new", "s-first"), ("a-copy", "s-first")]))
