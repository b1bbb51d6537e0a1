"""Average-linkage agglomeration inside one connected component of links,
shared by near-duplicate clusters and stories."""
from __future__ import annotations

import heapq
from typing import Iterable

__all__ = ["average_link_groups", "average_link_indexed", "pair_links"]


def pair_links(members: list[dict], weigh, min_weight: float = 0.0) -> list[tuple[str, str, float]]:
    """(a, b, weight) for every pair of ``members`` in doc_id order, but pairs of
    two earlier-run members (judged when they were new), whose ``weigh(m_a, m_b)``
    is at least ``min_weight``."""
    members = sorted(members, key=lambda m: m["doc_id"])
    links = []
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if not (a.get("old") and b.get("old")):
                w = weigh(a, b)
                if w >= min_weight:
                    links.append((a["doc_id"], b["doc_id"], w))
    return links


def average_link_groups(members: list[dict], edges: list[tuple[str, str, float]], threshold: float,
                        key: str = "story_id", must_link: float = 1.0) -> list[tuple[str | None, list[dict]]]:
    """The groups of one connected component: (earlier id or None, members sorted by doc_id).

    Average-linkage agglomeration: the two groups with the highest average
    similarity over all their pairs of articles (pairs without a link count
    0; negative weights only say two members were in one component) merge, while
    that average is at least ``threshold``. Unlike connected
    components, one strong link between two stories cannot chain them
    together. Must-links (weight >= ``must_link``: near-duplicate copies)
    merge first. An earlier run's group (members of one ``key``) starts as
    one group and keeps its id; two earlier groups never merge (their rows
    are not rewritten). Near-duplicate clusters use it too. Deterministic:
    members and edges are sorted, ties go to the smaller group ids.
    """
    members = sorted(members, key=lambda m: m["doc_id"])
    index = {m["doc_id"]: i for i, m in enumerate(members)}
    edges = sorted((index[a], index[b], w) if index[a] < index[b] else (index[b], index[a], w)
                   for a, b, w in edges if a in index and b in index and a != b and w >= 0)
    return average_link_indexed(members, edges, threshold, key, must_link)


def average_link_indexed(members: list[dict], edges: Iterable[tuple[int, int, float]], threshold: float,
                         key: str = "story_id", must_link: float = 1.0) -> list[tuple[str | None, list[dict]]]:
    """``average_link_groups`` of members already sorted by doc_id and their links
    as (i, j, weight) over positions in ``members``: i < j, weight >= 0, sorted;
    an iterable read twice (e.g. arrays a chunk at a time)."""
    parent = list(range(len(members)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    old_group: dict[int, str] = {}  # group -> the earlier run's group id it is

    def union(a, b) -> bool:
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

    first_of_group: dict[str, int] = {}
    for i, m in enumerate(members):
        if m.get("old") and m.get(key):
            j = first_of_group.setdefault(m[key], i)
            if j == i:
                old_group[i] = m[key]
            else:
                union(j, i)
    for a, b, w in edges:
        if w >= must_link:
            union(a, b)

    # average linkage over the groups left
    size: dict[int, int] = {}
    for i in range(len(members)):
        r = find(i)
        size[r] = size.get(r, 0) + 1
    sums: dict[int, dict[int, float]] = {r: {} for r in size}
    for a, b, w in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            sums[ra][rb] = sums[ra].get(rb, 0.0) + w
            sums[rb][ra] = sums[rb].get(ra, 0.0) + w
    # only pairs of groups close enough to merge wait in the heap: the loop
    # stops at the first one below the threshold, so one never popped changes
    # nothing (and a pair whose average changes with a merge is pushed again)
    heap = [(-s / (size[x] * size[y]), x, y) for x in sums for y, s in sums[x].items()
            if x < y and s / (size[x] * size[y]) >= threshold]
    heapq.heapify(heap)
    while heap:
        neg, x, y = heapq.heappop(heap)
        if -neg < threshold:
            break
        if find(x) != x or find(y) != y or y not in sums[x] or sums[x][y] / (size[x] * size[y]) != -neg:
            continue  # stale: one of the groups has changed since
        if not union(x, y):
            continue  # two earlier groups
        keep, gone = (x, y) if find(x) == x else (y, x)
        size[keep] += size.pop(gone)
        del sums[keep][gone]
        for z, s in sums.pop(gone).items():
            if z == keep:
                continue
            del sums[z][gone]
            sums[keep][z] = sums[keep].get(z, 0.0) + s
            sums[z][keep] = sums[keep][z]
        for z, s in sums[keep].items():
            if s / (size[keep] * size[z]) >= threshold:
                heapq.heappush(heap, (-s / (size[keep] * size[z]), min(keep, z), max(keep, z)))

    groups: dict[int, list[dict]] = {}
    for i, m in enumerate(members):  # sorted: each group's members stay in doc_id order
        groups.setdefault(find(i), []).append(m)
    return [(old_group.get(r), g) for r, g in sorted(groups.items())]
