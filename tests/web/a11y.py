"""Basic page checks without a browser: the HTML parsed with the standard library.

- `lang` on <html>, a <title>, one <h1>, a viewport;
- every visible form control has a label (label[for] or a wrapping <label>);
- every <svg>/<img> has fixed width and height (no layout shift) and is either hidden from
  assistive technology or has a text alternative;
- nothing from another origin (src/href), no <script>;
- WCAG contrast ratios.
"""
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []            # (tag, attrs dict, inside_label)
        self.labels_for = set()
        self.title = ""
        self._label_depth = 0
        self._in_title = False
        self._svg_depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag == "title" and not self._svg_depth:
            self._in_title = True
        self.elements.append((tag, a, self._label_depth > 0, self._svg_depth > 0))
        if tag == "svg":
            self._svg_depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self._svg_depth -= 1
        if tag == "label":
            self._label_depth -= 1

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        if tag == "title":
            self._in_title = False
        if tag == "svg":
            self._svg_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def find(self, tag):
        return [a for t, a, _, _ in self.elements if t == tag]


def problems(text):
    """A list of what is wrong with a page (empty when it passes)."""
    p = Page(text)
    out = []
    html = p.find("html")
    if not html or not html[0].get("lang"):
        out.append("<html> without lang")
    if not p.title.strip():
        out.append("no <title>")
    if len(p.find("h1")) != 1:
        out.append(f"{len(p.find('h1'))} <h1> elements")
    if not any(m.get("name") == "viewport" for m in p.find("meta")):
        out.append("no viewport meta")
    for tag, a, in_label, in_svg in p.elements:
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            if not in_label and a.get("id") not in p.labels_for and not a.get("aria-label"):
                out.append(f"<{tag} name={a.get('name')}> has no label")
        if tag in ("svg", "img") and not in_svg:
            if not a.get("width") or not a.get("height"):
                out.append(f"<{tag}> without fixed width/height")
            hidden = a.get("aria-hidden") == "true"
            named = a.get("aria-label") or a.get("aria-labelledby") or a.get("alt")
            if not hidden and not named:
                out.append(f"<{tag}> without a text alternative")
        if tag == "script":
            out.append("<script> on the page")
        for attr in ("src", "href", "action"):
            v = a.get(attr, "")
            if v.startswith(("http:", "https:", "//")):
                out.append(f"{tag} {attr} to another origin: {v}")
    return out


def _luminance(hex_colour):
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    out = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast(a, b):
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def rgb_to_hex(css):
    """'rgb(20, 108, 46)' -> '#146c2e'."""
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    return "#" + "".join(f"{int(float(v)):02x}" for v in parts[:3])
