"""Where a signature next occurs in a seekable file, searched a block at a
time: the zip reader's local headers and data descriptors
(``zip_local``), a compressed file's next member (``members``)."""
from __future__ import annotations

BLOCK = 1 << 20  # searched at a time


class Finder:
    """Where a signature next occurs in ``raw`` (of ``total`` bytes), from a
    held block of ``block`` bytes: many false signatures close together
    cost one read of each block, not one a signature. ``raw`` may be read
    elsewhere between two calls (a candidate checked): the block is held
    apart from its position."""

    def __init__(self, raw, total: int, block: int = BLOCK):
        self.raw, self.total, self.size = raw, total, block
        self.start, self.block = 0, b""

    def __call__(self, signature: bytes, pos: int) -> int | None:
        while pos < self.total:
            if not self.start <= pos < self.start + len(self.block) - len(signature) + 1:
                self.raw.seek(pos)
                self.start, self.block = pos, self.raw.read(self.size + len(signature) - 1)
            at = self.block.find(signature, pos - self.start)
            if at >= 0:
                return self.start + at
            if self.start + len(self.block) >= self.total:
                return None
            pos = self.start + len(self.block) - len(signature) + 1
        return None
