"""Average-linkage agglomeration inside one connected component of links,
shared by near-duplicate clusters and stories."""
from __future__ import annotations

import heapq

import numpy as np

__all__ = ["average_link_groups", "average_link_indexed", "judged_pairs", "pair_links"]

HEAP_SLACK = 1 << 12  # heap entries before stale ones are first dropped (then twice the live ones)
PAIR_CHUNK = 1 << 18  # links summed into pairs of groups at once


def judged_pairs(members: list[dict]) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """``members`` sorted by doc_id, and the rows (a, b) of every pair of them
    in that order (row by row) but pairs of two earlier-run members, which
    were judged when they were new."""
    members = sorted(members, key=lambda m: m["doc_id"])
    a, b = np.triu_indices(len(members), 1)
    old = np.fromiter((bool(m.get("old")) for m in members), dtype=bool, count=len(members))
    keep = np.flatnonzero(~(old[a] & old[b]))
    return members, a[keep], b[keep]


def pair_links(members: list[dict], weigh, min_weight: float = 0.0) -> list[tuple[str, str, float]]:
    """(a, b, weight) for every pair ``judged_pairs`` gives whose ``weigh(m_a, m_b)``
    is at least ``min_weight``."""
    members, a, b = judged_pairs(members)
    links = []
    for x, y in zip(a.tolist(), b.tolist()):
        w = weigh(members[x], members[y])
        if w >= min_weight:
            links.append((members[x]["doc_id"], members[y]["doc_id"], w))
    return links


def average_link_groups(members: list[dict], edges: list[tuple[str, str, float]], threshold: float,
                        key: str = "story_id", must_link: float = 1.0,
                        guard=None) -> list[tuple[str | None, list[dict]]]:
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

    ``guard``, if given, may refuse a merge: ``guard.begin(groups)`` is told
    the groups the loop starts from ({root: positions of its members in
    doc_id order}), ``guard.allows(x, y, average)`` is asked before groups
    ``x`` and ``y`` merge (a refused pair is asked again only once either
    group has changed), and ``guard.merged(keep, gone)`` is told of each merge.
    """
    members = sorted(members, key=lambda m: m["doc_id"])
    index = {m["doc_id"]: i for i, m in enumerate(members)}
    edges = sorted((index[a], index[b], w) if index[a] < index[b] else (index[b], index[a], w)
                   for a, b, w in edges if a in index and b in index and a != b and w >= 0)
    i = np.array([e[0] for e in edges], dtype=np.int64)
    j = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    return average_link_indexed(members, i, j, w, threshold, key, must_link, guard)


def average_link_indexed(members: list[dict], i: np.ndarray, j: np.ndarray, w: np.ndarray, threshold: float,
                         key: str = "story_id", must_link: float = 1.0,
                         guard=None) -> list[tuple[str | None, list[dict]]]:
    """``average_link_groups`` of members already sorted by doc_id and their links
    as arrays (i, j, weight) of positions in ``members``: i < j, weight >= 0,
    sorted.

    The sums of weights between groups are arrays, not a dict per group: each
    group's (neighbour, sum) pairs, made at the start with NumPy (summed in link
    order) and made again only for the group a merge keeps. A neighbour that
    has since merged is found through ``alias`` when a group's pairs are made
    again, so the other groups' pairs are never rewritten. A heap entry holds
    the two groups' versions (bumped by each merge they take part in): it is
    stale once either has changed, and the merge pushes the new averages; when
    most of the heap is stale it is rebuilt without them (which pops the same)."""
    n = len(members)
    parent = list(range(n))

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
    for x, m in enumerate(members):
        if m.get("old") and m.get(key):
            y = first_of_group.setdefault(m[key], x)
            if y == x:
                old_group[x] = m[key]
            else:
                union(y, x)
    must = np.flatnonzero(w >= must_link)
    for a, b in zip(i[must].tolist(), j[must].tolist()):
        union(a, b)
    del must

    # each pair of groups linked, and the sum of its links' weights (in link order)
    root = np.fromiter((find(x) for x in range(n)), dtype=np.int32 if n < 1 << 31 else np.int64, count=n)
    if guard is not None:
        start_groups: dict[int, list[int]] = {}
        for x, r in enumerate(root.tolist()):
            start_groups.setdefault(r, []).append(x)
        guard.begin(start_groups)
        del start_groups
    size = np.bincount(root, minlength=n)
    lo, hi, sums = _pair_sums(root, i, j, w)
    del root
    # only pairs of groups close enough to merge wait in the heap: the loop
    # stops at the first one below the threshold, so one never popped changes nothing
    avg = sums / (size[lo] * size[hi])
    near = avg >= threshold
    # the first pairs wait as arrays in heap order (a near-duplicate component's
    # can be most of its links), the pairs later merges make in a heap
    first = (-avg[near], lo[near], hi[near])
    del avg, near
    order = np.lexsort(first[::-1])
    first = tuple(a[order] for a in first)
    taken = 0
    heap: list[tuple] = []
    # each group's neighbours and sums, both ways, by group
    src = np.concatenate((lo, hi))
    order = np.argsort(src, kind="stable")
    start = np.searchsorted(src[order], np.arange(n + 1))
    del src
    nbr = np.concatenate((hi, lo))[order]
    del lo, hi
    nsum = np.concatenate((sums, sums))[order]
    del order, sums
    remade: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a group's pairs once it has merged
    alias = np.arange(n)  # a group -> the group it merged into (itself while it stands)
    version = [0] * n

    def pairs(g):
        return remade[g] if g in remade else (nbr[start[g]:start[g + 1]], nsum[start[g]:start[g + 1]])

    def now(groups: np.ndarray) -> np.ndarray:
        found = alias[groups]
        while True:
            nxt = alias[found]
            if np.array_equal(nxt, found):
                break
            found = nxt
        alias[groups] = found  # the next look-up is one step
        return found

    compact_at = HEAP_SLACK
    while heap or taken < len(first[0]):
        if len(heap) > compact_at:  # most entries stale (a big group's merges push again and again): drop them
            heap = [e for e in heap if version[e[1]] == e[3] and version[e[2]] == e[4]]
            heapq.heapify(heap)
            compact_at = max(HEAP_SLACK, 2 * len(heap))
        head = (float(first[0][taken]), int(first[1][taken]), int(first[2][taken]), 0, 0) \
            if taken < len(first[0]) else None
        if head is None or (heap and heap[0] < head):
            neg, x, y, vx, vy = heapq.heappop(heap)
        else:
            (neg, x, y, vx, vy), taken = head, taken + 1
        if -neg < threshold:
            break
        if version[x] != vx or version[y] != vy:
            continue  # stale: one of the groups has changed since
        if guard is not None and not guard.allows(x, y, -neg):
            continue
        if not union(x, y):
            continue  # two earlier groups
        keep, gone = (x, y) if find(x) == x else (y, x)
        if guard is not None:
            guard.merged(keep, gone)
        size[keep] += size[gone]
        size[gone] = 0
        version[keep] += 1
        version[gone] += 1
        alias[gone] = keep
        (nk, sk), (ng, sg) = pairs(keep), pairs(gone)
        remade.pop(gone, None)
        others = now(np.concatenate((nk, ng)))
        weights = np.concatenate((sk, sg))
        apart = others != keep
        groups, at = np.unique(others[apart], return_inverse=True)
        sums = np.bincount(at.ravel(), weights=weights[apart], minlength=len(groups))
        remade[keep] = (groups, sums)
        avg = sums / (size[keep] * size[groups])
        near = avg >= threshold
        for z, a in zip(groups[near].tolist(), avg[near].tolist()):
            x, y = min(keep, z), max(keep, z)
            heapq.heappush(heap, (-a, x, y, version[x], version[y]))

    groups: dict[int, list[dict]] = {}
    for x, m in enumerate(members):  # sorted: each group's members stay in doc_id order
        groups.setdefault(find(x), []).append(m)
    return [(old_group.get(r), g) for r, g in sorted(groups.items())]


def _pair_sums(root: np.ndarray, i: np.ndarray, j: np.ndarray, w: np.ndarray):
    """(lo, hi, sum): each pair of groups (``root`` of each member) some links
    join, in order, and the sum of those links' weights, added in link order.
    Made for a range of ``lo`` at a time, about ``PAIR_CHUNK`` links each, so
    that few arrays of a link each are held at once (a story component can
    have millions of links)."""
    n = len(root)
    lo, hi = root[i], root[j]
    np.minimum(lo, hi, out=lo)
    np.maximum(root[i], hi, out=hi)
    lo[lo == hi] = n  # a link inside a group joins no pair
    per_lo = np.cumsum(np.bincount(lo, minlength=n + 1)[:n])
    cuts = np.unique(np.searchsorted(per_lo, np.arange(PAIR_CHUNK, per_lo[-1] if n else 0, PAIR_CHUNK)))
    pairs, sums = [], []
    for start, end in zip(np.r_[0, cuts + 1].tolist(), np.r_[cuts + 1, n].tolist()):
        at = np.flatnonzero((lo >= start) & (lo < end))
        code = lo[at].astype(np.int64) * n + hi[at]
        order = np.argsort(code, kind="stable")  # stable: a pair's links stay in link order
        code, weights = code[order], w[at[order]]
        del at, order
        first = np.empty(len(code), dtype=bool)
        first[:1] = True
        np.not_equal(code[1:], code[:-1], out=first[1:])
        sums.append(np.bincount(np.cumsum(first) - 1, weights=weights) if len(code) else np.zeros(0))
        pairs.append(code[first])
    del lo, hi
    pair = np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.int64)
    del pairs
    return ((pair // n).astype(root.dtype), (pair % n).astype(root.dtype),
            np.concatenate(sums) if sums else np.zeros(0))
