"""Average linkage over arrays (transforms.linkage) against a plain reading of
its definition: a dict of sums per group and one heap, the implementation it
replaced. Random components with earlier groups, must-links, repeated pairs and
tied weights; a dense one, where the heap fills with stale entries."""
import heapq
import random

import numpy as np
import pytest

from transforms import linkage
from transforms.linkage import average_link_groups, average_link_indexed


def _reference(members, edges, threshold, key="story_id", must_link=1.0, guard=None):
    """(earlier id, [doc_id]) of each group: members sorted by doc_id, edges
    (i, j, w) sorted over their places, i < j."""
    parent = list(range(len(members)))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    old_group = {}

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra == rb:
            return True
        if ra in old_group and rb in old_group:
            return False
        lo, hi = min(ra, rb), max(ra, rb)
        parent[hi] = lo
        gid = old_group.pop(hi, None) or old_group.get(lo)
        if gid:
            old_group[lo] = gid
        return True

    first = {}
    for i, m in enumerate(members):
        if m.get("old") and m.get(key):
            j = first.setdefault(m[key], i)
            if j == i:
                old_group[i] = m[key]
            else:
                union(j, i)
    for a, b, w in edges:
        if w >= must_link:
            union(a, b)
    size = {}
    for i in range(len(members)):
        size[find(i)] = size.get(find(i), 0) + 1
    sums = {r: {} for r in size}
    for a, b, w in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            sums[ra][rb] = sums[ra].get(rb, 0.0) + w
            sums[rb][ra] = sums[rb].get(ra, 0.0) + w
    if guard is not None:
        start = {}
        for i in range(len(members)):
            start.setdefault(find(i), []).append(i)
        guard.begin(start)
    heap = [(-s / (size[x] * size[y]), x, y) for x in sums for y, s in sums[x].items() if x < y]
    heapq.heapify(heap)
    while heap:
        neg, x, y = heapq.heappop(heap)
        if -neg < threshold:
            break
        if find(x) != x or find(y) != y or y not in sums[x] or sums[x][y] / (size[x] * size[y]) != -neg:
            continue
        if guard is not None and not guard.allows(x, y, -neg):
            continue
        if not union(x, y):
            continue
        keep, gone = (x, y) if find(x) == x else (y, x)
        if guard is not None:
            guard.merged(keep, gone)
        size[keep] += size.pop(gone)
        del sums[keep][gone]
        for z, s in sums.pop(gone).items():
            if z != keep:
                del sums[z][gone]
                sums[keep][z] = sums[keep].get(z, 0.0) + s
                sums[z][keep] = sums[keep][z]
        for z, s in sums[keep].items():
            heapq.heappush(heap, (-s / (size[keep] * size[z]), min(keep, z), max(keep, z)))
    groups = {}
    for i, m in enumerate(members):
        groups.setdefault(find(i), []).append(m["doc_id"])
    return [(old_group.get(r), g) for r, g in sorted(groups.items())]


def _component(rng, n, density, old_share=0.3):
    members = []
    for k in range(n):
        old = rng.random() < old_share
        members.append({"doc_id": f"d{k:04d}", "old": old, "story_id": rng.choice(["A", "B", "C"]) if old else None})
    edges = []
    for _ in range(int(n * density) if n > 1 else 0):
        a, b = sorted(rng.sample(range(n), 2))
        w = rng.choice([1.0, 0.25, 0.5, 0.3, round(rng.random(), 2), rng.random()])
        edges.append((a, b, w))
        if rng.random() < 0.05:  # the same pair twice (a found link and a must-link)
            edges.append((a, b, rng.choice([1.0, 0.4])))
    return members, sorted(edges)


def _arrays(edges):
    return (np.array([e[0] for e in edges], dtype=np.int64), np.array([e[1] for e in edges], dtype=np.int64),
            np.array([e[2] for e in edges], dtype=np.float64))


def _ids(groups):
    return [(gid, [m["doc_id"] for m in g]) for gid, g in groups]


@pytest.mark.parametrize("seed", range(6))
def test_array_linkage_groups_as_the_reference_does(seed):
    rng = random.Random(seed)
    for _ in range(150):
        members, edges = _component(rng, rng.randint(1, 16), rng.choice([0.5, 1.5, 3.0]))
        threshold = rng.choice([0.25, 0.5, 0.6])
        assert _ids(average_link_indexed(members, *_arrays(edges), threshold)) == \
            _reference(members, edges, threshold), (members, edges, threshold)


def test_a_dense_component_whose_heap_fills_with_stale_entries():
    """A few hundred near copies, every pair linked: each merge pushes the kept
    group's pairs again, so the heap is rebuilt without stale entries many times."""
    rng = random.Random(7)
    n = 300
    members = [{"doc_id": f"d{k:04d}", "old": False, "story_id": None} for k in range(n)]
    topic = [k % 4 for k in range(n)]
    edges = [(a, b, round(rng.uniform(0.6, 0.95) if topic[a] == topic[b] else rng.uniform(0.0, 0.3), 3))
             for a in range(n) for b in range(a + 1, n)]
    got = _ids(average_link_indexed(members, *_arrays(edges), 0.5, key="dup_cluster_id", must_link=2.0))
    assert got == _reference(members, edges, 0.5, key="dup_cluster_id", must_link=2.0)
    assert sorted(len(g) for _, g in got) == [75] * 4


def test_groups_by_doc_id_take_links_in_any_order_and_either_way():
    rng = random.Random(3)
    members, edges = _component(rng, 12, 3.0)
    by_id = [(members[a]["doc_id"], members[b]["doc_id"], w) for a, b, w in edges]
    shuffled = [(b, a, w) if rng.random() < 0.5 else (a, b, w) for a, b, w in by_id]
    rng.shuffle(shuffled)
    assert _ids(average_link_groups(list(reversed(members)), shuffled, 0.3)) == _reference(members, edges, 0.3)


@pytest.mark.parametrize("seed", range(3))
def test_random_dense_components_with_many_stale_entries(seed, monkeypatch):
    monkeypatch.setattr(linkage, "HEAP_SLACK", 8)  # the heap is rebuilt every few merges
    monkeypatch.setattr(linkage, "PAIR_CHUNK", 50)  # and the first sums made in many ranges
    rng = random.Random(seed)
    n = 140
    members = [{"doc_id": f"d{k:04d}", "old": rng.random() < 0.1, "story_id": rng.choice(["A", "B"])}
               for k in range(n)]
    for m in members:
        m["story_id"] = m["story_id"] if m["old"] else None
    edges = [(a, b, round(rng.random() ** 2, 3)) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.8]
    for threshold in (0.2, 0.3):
        assert _ids(average_link_indexed(members, *_arrays(edges), threshold)) == \
            _reference(members, edges, threshold)


class _ParityGuard:
    """Refuses to merge two groups of two or more whose members' places add up
    to sums of different parity: a rule of the groups' members alone, as a
    real guard's is; it records what it was asked."""

    def __init__(self):
        self.rows, self.asked = {}, []

    def begin(self, groups):
        self.rows = {r: list(v) for r, v in groups.items()}

    def allows(self, x, y, average):
        self.asked.append((tuple(self.rows[x]), tuple(self.rows[y])))
        a, b = self.rows[x], self.rows[y]
        return len(a) < 2 or len(b) < 2 or sum(a) % 2 == sum(b) % 2

    def merged(self, keep, gone):
        self.rows[keep] = sorted(self.rows[keep] + self.rows.pop(gone))


@pytest.mark.parametrize("seed", range(4))
def test_a_guard_refuses_merges_as_in_the_reference(seed):
    """A guard is told the starting groups and each merge, and asked before
    each merge, as the plain reading asks it; a refused pair is asked again
    only once one of its groups has changed."""
    rng = random.Random(100 + seed)
    refused = 0
    for _ in range(200):
        members, edges = _component(rng, rng.randint(4, 16), rng.choice([1.5, 3.0]))
        threshold = rng.choice([0.25, 0.3])
        got_guard, ref_guard = _ParityGuard(), _ParityGuard()
        got = _ids(average_link_indexed(members, *_arrays(edges), threshold, guard=got_guard))
        assert got == _reference(members, edges, threshold, guard=ref_guard), (members, edges, threshold)
        assert len(got_guard.asked) == len(set(got_guard.asked))  # never the same two groups twice
        refused += got != _reference(members, edges, threshold)
    assert refused >= 8, refused  # the guard changed the groups of some components


def test_judged_pairs_are_every_pair_in_doc_id_order_but_two_earlier_members():
    """``judged_pairs`` (which ``pair_links`` and the stories' batch of links read)
    gives the pairs a loop over the members sorted by doc_id gives, generated."""
    rnd = random.Random(5)
    for _ in range(300):
        members = [{"doc_id": f"d{rnd.randrange(1000):03d}-{i}", "old": rnd.random() < 0.4}
                   for i in range(rnd.randrange(7))]
        rnd.shuffle(members)
        ordered = sorted(members, key=lambda m: m["doc_id"])
        expected = [(x["doc_id"], y["doc_id"]) for i, x in enumerate(ordered) for y in ordered[i + 1:]
                    if not (x["old"] and y["old"])]
        got, a, b = linkage.judged_pairs(members)
        assert [m["doc_id"] for m in got] == [m["doc_id"] for m in ordered]
        assert [(got[x]["doc_id"], got[y]["doc_id"]) for x, y in zip(a.tolist(), b.tolist())] == expected
        assert [(x, y) for x, y, _ in linkage.pair_links(members, lambda m, n: 1.0)] == expected
