"""Reading a report page back as a browser would, to check that text reaches it escaped exactly once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Markup, an entity and quotes of both kinds: as text on a page, each must be escaped exactly once.
MARKUP = """<script>alert("x")</script> & Co.: 'quoted' <b>bold</b> &amp; done"""

_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@dataclass
class ParsedPage:
    tags: list[str] = field(default_factory=list)  # every element, in order
    texts: list[str] = field(default_factory=list)  # every text node, entities decoded
    by_tag: dict[str, list[str]] = field(default_factory=dict)  # texts directly inside each kind of element


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page, self.open = ParsedPage(), []

    def handle_starttag(self, tag, attrs):
        self.page.tags.append(tag)
        if tag not in ("br", "img", "meta"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data):
        if data.strip():
            self.page.texts.append(data)
            self.page.by_tag.setdefault(self.open[-1] if self.open else "", []).append(data)


def parse(page: str) -> ParsedPage:
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser.page


def assert_escaped_once(page: str, *texts: str) -> ParsedPage:
    """Each of ``texts`` is on ``page`` as text: a browser reads it back exactly (not escaped twice,
    its markup not taken as elements); and no other text shows an escape sequence, as the words
    of a page escaped twice would (``static&#39;s``)."""
    parsed = parse(page)
    assert "script" not in parsed.tags, "text on the page became a <script> element: escaping is missing"
    for text in texts:
        assert any(text in node for node in parsed.texts), f"{text!r} is not on the page as text"
    shown = [node for node in parsed.texts if _ENTITY.search(node) and not any(text in node for text in texts)]
    assert not shown, f"text shows escape sequences (escaped twice?): {shown[:3]}"
    return parsed
