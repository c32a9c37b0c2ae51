"""Merges gettext catalogs: the translations of every given .po into the first one (for merging branches' catalogs).

Usage: python tools/po_merge.py TARGET.po OTHER.po [OTHER.po ...]
An entry translated in TARGET keeps its text; an entry empty or fuzzy there takes the first other translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(target: str, *others: str) -> int:
    """Fills TARGET's untranslated or fuzzy entries from OTHERS; prints how many it filled."""
    with open(target, "rb") as f:
        catalog = read_po(f)
    filled = 0
    for other in others:
        with open(other, "rb") as f:
            source = read_po(f)
        for message in source:
            if not message.id or not message.string or message.fuzzy:
                continue
            mine = catalog.get(message.id, message.context)
            strings = mine.string if mine is not None else None
            empty = not strings or (isinstance(strings, tuple) and not all(strings))
            if mine is not None and (empty or mine.fuzzy):
                mine.string = message.string
                mine.flags.discard("fuzzy")
                filled += 1
    with open(target, "wb") as f:
        write_po(f, catalog, width=0, omit_header=False)
    print(f"{Path(target)}: {filled} entries filled")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]) if len(sys.argv) > 2 else (print(__doc__), 2)[1])
