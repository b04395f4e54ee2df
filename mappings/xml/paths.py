"""Where an element is, in words a partner can find in their own file: an XPath-like path with the
prefixes the document itself uses ("/Order/cac:OrderLine[2]/cac:LineItem") and its source line."""

from __future__ import annotations

from lxml import etree


def step(element: etree._Element) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


def path_of(element: etree._Element) -> str:
    """Absolute path; a step gets an [n] index only where siblings share its name."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None:
        parent = current.getparent()
        name = step(current)
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == current.tag]
            if len(same) > 1:
                name += f"[{same.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def line_of(element: etree._Element) -> int | None:
    line = element.sourceline
    return int(line) if line is not None else None
