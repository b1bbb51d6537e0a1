"""Connected components (transforms.components): one worker's union-find and
star contraction across workers give the same, exact roots."""
import random

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from conftest import beam_test_pipeline
from transforms.components import ConnectedComponents


def _graph():
    """Long paths in both id orders (the slowest case for label propagation),
    a star, a cycle, self-loops, repeated edges and a random sparse graph."""
    rng = random.Random(7)
    edges = []
    path = [f"p{i:03d}" for i in range(60)]
    rng.shuffle(path)
    edges += list(zip(path, path[1:]))
    edges += [(f"q{i:03d}", f"q{i + 1:03d}") for i in range(40)]  # sorted path
    edges += [("s000", f"s{i:03d}") for i in range(1, 30)] + [("s005", "s000")]  # star, one edge twice
    edges += [(f"c{i}", f"c{(i + 1) % 12}") for i in range(12)]  # cycle
    edges += [("solo", "solo"), ("p000", "p000")]
    nodes = [f"r{i:03d}" for i in range(150)]
    edges += [(rng.choice(nodes), rng.choice(nodes)) for _ in range(140)]
    return [(a, b, 1.0) for a, b in edges]


def _brute_force(edges):
    comp = {}
    for a, b, _ in edges:
        if a == b:
            continue
        ca, cb = comp.setdefault(a, {a}), comp.setdefault(b, {b})
        if ca is not cb:
            ca |= cb
            for x in cb:
                comp[x] = ca
    return sorted((x, min(c)) for x, c in comp.items())


@pytest.mark.parametrize("max_edges,rounds", [(10_000, 3), (0, 3), (0, 1), (0, 0)])
def test_union_find_and_star_contraction_give_the_exact_components(max_edges, rounds):
    edges = _graph()
    expected = _brute_force(edges)
    assert len({r for _, r in expected}) >= 10  # several components
    with beam_test_pipeline() as p:
        got = p | beam.Create(edges) | ConnectedComponents(max_edges, rounds)
        assert_that(got, equal_to(expected))


def test_star_rounds_leave_little_for_the_final_union_find():
    """What one worker still has to join after the rounds: on near-duplicate-like
    cliques nothing, on a random sparse graph with a long shuffled path a small part."""
    import collections

    from transforms.components import STAR_ROUNDS, _both_ways, _label, _large_star, _small_star

    def group(pairs):
        d = collections.defaultdict(list)
        for k, v in pairs:
            d[k].append(v)
        return sorted(d.items())

    def left_after(edges, rounds):
        cur = [(max(a, b), min(a, b)) for a, b in edges if a != b]
        for _ in range(rounds):
            cur = [e for kv in group(x for e in cur for x in _both_ways(e)) for e in _large_star(kv)]
            cur = [e for kv in group(cur) for e in _small_star(kv)]
        label = dict(_label(kv) for kv in group(x for e in cur for x in _both_ways(e)))
        return sum(1 for a, b in set(cur) if label[a] != label[b])

    rng = random.Random(1)
    cliques = []
    for g in range(2000):
        m = [f"d{g:05d}{j}" for j in range(rng.randint(2, 8))]
        cliques += [(a, b) for i, a in enumerate(m) for b in m[i + 1:]]
    assert len(cliques) > 10_000 and left_after(cliques, STAR_ROUNDS) == 0
    nodes = [f"n{i:05d}" for i in range(8000)]
    sparse = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(12000)]
    path = [f"z{i:05d}" for i in range(2000)]
    rng.shuffle(path)
    sparse += list(zip(path, path[1:]))
    before, after = left_after(sparse, 0), left_after(sparse, STAR_ROUNDS)
    assert after < 0.15 * len(sparse) and after < 0.5 * before, (len(sparse), before, after)
