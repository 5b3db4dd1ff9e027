"""The SQL catalogue (``hosts/sql/``, shipped inside this package): every statement a host runs, written
once for every host. Format: ``hosts/sql/README.md``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Tuple

_MARKER = re.compile(r"^--\s*(statement|fragment):\s*([a-z0-9-]+)\s*(?:\[(sqlite|postgres)\])?\s*$")
_FRAGMENT = re.compile(r"\{\{([a-z0-9-]+)\}\}")


class Catalogue:
    """Statements by ``<file>/<name>`` for one backend, fragments expanded."""

    def __init__(self, directory: Path, backend: str = "sqlite"):
        blocks: Dict[Tuple[str, str, str | None], str] = {}
        fragments: Dict[str, str] = {}
        for path in sorted(directory.glob("*.sql")):
            for kind, name, variant, text in _blocks(path):
                if kind == "fragment":
                    if name in fragments:
                        raise ValueError(f"{path.name}: fragment {name} defined twice")
                    fragments[name] = text
                else:
                    key = (path.stem, name, variant)
                    if key in blocks:
                        raise ValueError(f"{path.name}: statement {name} defined twice")
                    blocks[key] = text
        self._statements: Dict[str, str] = {}
        for (file, name, variant), text in blocks.items():
            if variant not in (None, backend):
                continue
            if variant is None and (file, name, backend) in blocks:
                continue
            self._statements[f"{file}/{name}"] = _expand(text, fragments, f"{file}/{name}")

    def __getitem__(self, name: str) -> str:
        try:
            return self._statements[name]
        except KeyError:
            raise KeyError(f"the SQL catalogue has no statement {name}") from None

    def __len__(self) -> int:
        return len(self._statements)


def _blocks(path: Path):
    current = None
    lines: list = []
    for line in path.read_text().splitlines():
        marker = _MARKER.match(line.strip())
        if marker:
            if current:
                yield (*current, _body(lines))
            current, lines = marker.groups(), []
        elif current and not line.strip().startswith("--"):
            lines.append(line)
    if current:
        yield (*current, _body(lines))


def _body(lines: list) -> str:
    text = "\n".join(lines).strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _expand(text: str, fragments: Dict[str, str], where: str) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in fragments:
            raise ValueError(f"{where}: unknown fragment {name}")
        return fragments[name]

    return _FRAGMENT.sub(one, text)
