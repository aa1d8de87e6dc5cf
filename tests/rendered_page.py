"""A page as Chromium rendered it (its DOM), as a flat list of elements the report tests can search."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The rendered DOM as a flat list of elements (tag, attributes, text inside), enough to find figures."""

    def __init__(self):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [p["tag"] for p in self._open]}
        el["in"] = [p["attrs"].get("id") for p in self._open if p["attrs"].get("id")]
        self.elements.append(el)
        if tag not in VOID:
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def find(self, **attrs) -> list[dict]:
        return [el for el in self.elements if all(el["attrs"].get(k) == v for k, v in attrs.items())]
