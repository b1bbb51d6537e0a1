"""Connected components of a link graph, in one worker while the edges fit,
else by rounds of star contraction across workers.

``ConnectedComponents`` turns edges ``(a, b, ...)`` into ``(node, root)`` for
every node on an edge, the root being the smallest node of its component.

- Up to ``max_union_find_edges`` edges: one union-find ``CombineFn``
  (``UnionFind``); Beam combines per worker first, so only the final merge
  holds the whole edge set in one worker.
- Above: ``rounds`` rounds of large-star and small-star (Kiveris et al.,
  "Connected Components in MapReduce and Beyond", SoCC 2014), each a
  ``GroupByKey`` over nodes: every node ends up linked to the smallest node
  of its neighbourhood, and the graph shrinks towards one star per
  component. Each node is then labelled with the smallest node it is linked
  to; the edges left between different labels (none once a component is a
  star) go through the union-find, which so holds only the unfinished part.
  The result is exact whatever the number of rounds; the rounds only decide
  how much is left for one worker.

Both paths give the same roots (a test runs one graph through both).
"""
from __future__ import annotations

import apache_beam as beam

__all__ = ["ConnectedComponents", "UnionFind", "MAX_UNION_FIND_EDGES", "STAR_ROUNDS"]

# One worker's union-find holds a dict entry per node (~150 bytes with a
# 32-character doc_id): a million edges is at most ~300 MB.
MAX_UNION_FIND_EDGES = 1_000_000
STAR_ROUNDS = 4  # large-star + small-star pairs before the union-find finishes (see the tests)


class UnionFind(beam.CombineFn):
    """Edges -> {node: root}; the root is the smallest node of its component."""

    def create_accumulator(self):
        return {}

    @staticmethod
    def _find(parent, x):
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def _union(self, parent, a, b):
        ra, rb = self._find(parent, a), self._find(parent, b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            parent[hi] = lo
            parent.setdefault(lo, lo)

    def add_input(self, parent, edge):
        self._union(parent, edge[0], edge[1])
        return parent

    def merge_accumulators(self, accs):
        out = {}
        for acc in accs:
            for x in acc:
                self._union(out, x, self._find(acc, x))
        return out

    def extract_output(self, parent):
        return {x: self._find(parent, x) for x in sorted(parent)}


def _both_ways(edge):
    a, b = edge[0], edge[1]
    if a != b:
        yield a, b
        yield b, a


def _large_star(kv):
    """Node u and its neighbours: each larger neighbour links to the smallest of u's neighbourhood."""
    u, nbrs = kv
    nbrs = set(nbrs)
    m = min(nbrs | {u})
    for v in sorted(nbrs):
        if v > u:
            yield v, m


def _small_star(kv):
    """Node u and its smaller neighbours: all of them link to the smallest."""
    u, smaller = kv
    group = set(smaller) | {u}
    m = min(group)
    for v in sorted(group):
        if v != m:
            yield v, m


def _label(kv):
    u, nbrs = kv
    return u, min(set(nbrs) | {u})


def _relabel_first(kv):
    """(a, {"edge": [b...], "label": [label(a)]}) -> (b, label(a)) per edge."""
    _, g = kv
    (la,) = g["label"]
    return [(b, la) for b in g["edge"]]


def _relabel_second(kv):
    """(b, {"edge": [label(a)...], "label": [label(b)]}) -> (label(a), label(b)) where they differ."""
    _, g = kv
    (lb,) = g["label"]
    return [(la, lb) for la in g["edge"] if la != lb]


class _UnionFindRoots(beam.PTransform):
    """(a, b) edges -> (node, root) through one ``UnionFind``."""

    def expand(self, edges):
        return (edges | "UnionFind" >> beam.CombineGlobally(UnionFind())
                | "RootPairs" >> beam.FlatMap(lambda m: sorted(m.items())))


class _StarComponents(beam.PTransform):
    """(a, b) edges -> (node, root), across workers (see the module doc)."""

    def __init__(self, rounds: int):
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        # smaller end second: (larger, smaller)
        cur = edges | "Orient" >> beam.FlatMap(lambda e: [(max(e[0], e[1]), min(e[0], e[1]))] if e[0] != e[1] else [])
        for r in range(self.rounds):
            cur = (cur | f"LargeStarBothWays{r}" >> beam.FlatMap(_both_ways)
                   | f"LargeStarGroup{r}" >> beam.GroupByKey()
                   | f"LargeStar{r}" >> beam.FlatMap(_large_star)
                   | f"SmallStarGroup{r}" >> beam.GroupByKey()
                   | f"SmallStar{r}" >> beam.FlatMap(_small_star))
        labels = (cur | "LabelBothWays" >> beam.FlatMap(_both_ways) | "LabelGroup" >> beam.GroupByKey()
                  | "Label" >> beam.Map(_label))
        left = ({"edge": cur, "label": labels} | "JoinFirstLabel" >> beam.CoGroupByKey()
                | "RelabelFirst" >> beam.FlatMap(_relabel_first))
        left = ({"edge": left, "label": labels} | "JoinSecondLabel" >> beam.CoGroupByKey()
                | "RelabelSecond" >> beam.FlatMap(_relabel_second))
        finish = left | "UnionFindLeft" >> beam.CombineGlobally(UnionFind())
        return labels | "Root" >> beam.Map(lambda ul, roots: (ul[0], roots.get(ul[1], ul[1])),
                                          beam.pvalue.AsSingleton(finish))


class ConnectedComponents(beam.PTransform):
    """Edges ``(a, b, ...)`` -> ``(node, root)``, root the smallest node of the component.

    The edges are counted first; at most ``max_union_find_edges`` go to one
    union-find, more to ``rounds`` rounds of star contraction (module doc).
    ``None``: always one union-find, with no counting and no contraction
    stages in the graph (for a local runner, whose collections are all in one
    machine's memory anyway).
    """

    def __init__(self, max_union_find_edges: int | None = MAX_UNION_FIND_EDGES, rounds: int = STAR_ROUNDS):
        super().__init__()
        self.max_union_find_edges = max_union_find_edges
        self.rounds = rounds

    def expand(self, edges):
        limit = self.max_union_find_edges
        if limit is None:
            return edges | "OneWorker" >> _UnionFindRoots()
        count = beam.pvalue.AsSingleton(edges | "CountEdges" >> beam.combiners.Count.Globally())
        small = edges | "FitsOneWorker" >> beam.Filter(lambda _, n: n <= limit, count)
        large = edges | "TooManyForOneWorker" >> beam.Filter(lambda _, n: n > limit, count)
        one = small | "OneWorker" >> _UnionFindRoots()
        many = large | "StarContraction" >> _StarComponents(self.rounds)
        return (one, many) | "Roots" >> beam.Flatten()
