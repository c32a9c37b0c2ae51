"""A small DOM from the standard library's html.parser, to assert the structure of the HTML views."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"br", "hr", "img", "input", "meta", "link"})


@dataclass
class Node:
    """An element: its tag, attributes (in order, repeated ones kept), children (nodes and text)."""

    tag: str
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Node | str] = field(default_factory=list)

    def attr(self, name: str) -> str | None:
        return dict(self.attrs).get(name)

    def classes(self) -> set[str]:
        return set((self.attr("class") or "").split())

    def text(self) -> str:
        """All text below this node, as the browser would show it (entities decoded)."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes()) and n is not self
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"end tag of void element {tag}"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>: not well nested"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"unexpected comment {data!r}")


def parse(html: str) -> Node:
    """The tree of an HTML fragment; fails when tags are not properly nested or left open."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], f"unclosed: {[n.tag for n in builder.stack[1:]]}"
    return builder.root


def assert_inert(root: Node) -> None:
    """No script, no event handler, no style attribute, every link http(s) and opened without an opener."""
    for node in root.walk():
        assert node.tag not in ("script", "iframe", "object", "embed", "style", "form", "svg"), node.tag
        for name, value in node.attrs:
            assert not name.startswith("on"), (node.tag, name, value)
            assert name not in ("style", "srcdoc", "formaction"), (node.tag, name)
            if name in ("href", "src") and value is not None:
                assert value.startswith(("https://", "http://")) or (
                    node.tag == "img" and value.startswith("data:image/")
                ), value
        if node.tag == "a":
            assert (node.attr("rel") or "").split() == ["noopener", "noreferrer"], node.attrs
            assert node.attr("target") == "_blank"
