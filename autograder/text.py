"""Safe text: what the grader writes where a student's text may end up.

Every id, flag, message and piece of a student's notebook that reaches a terminal, a CSV
file or an HTML page goes through here:

- :func:`clean_text` strips escape sequences and control characters (terminal, CSV);
- :func:`esc` and :func:`esc_block` clean and escape for HTML; :func:`cap` shortens;
- :func:`csv_text` keeps a spreadsheet from reading a cell as a formula;
- :func:`html_page` is the shell of every page the grader writes: no script, and a content
  security policy that forbids one;
- :func:`markdown_html` renders a student's markdown with raw HTML escaped, then
  :class:`Sanitizer` keeps only an allow-list of tags, and links only to safe addresses.

This module imports nothing of the grader: every layer may use it.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from html.parser import HTMLParser

SAFE_SCHEMES = ("http://", "https://", "mailto:")
MARKDOWN_LIMIT = 20_000
# ANSI CSI and OSC sequences, other escapes, then every remaining C0/C1 control character,
# and the invisible or direction-changing characters that make a terminal line lie
CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

PAGE_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:1200px;
line-height:1.4;overflow-wrap:anywhere}
pre,code,.out{font-family:ui-monospace,monospace;font-size:.85rem}
pre,.out{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
img{max-width:100%;height:auto}
table{border-collapse:collapse;max-width:100%;table-layout:auto}
th,td{border:1px solid #bbb;padding:.2rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;white-space:pre-wrap}
.note{color:#666;font-style:italic}
"""

ALLOWED_TAGS = frozenset(
    "p br hr h1 h2 h3 h4 h5 h6 em strong del code pre blockquote ul ol li "
    "table thead tbody tr th td a".split()
)
VOID_TAGS = frozenset({"br", "hr"})


def clean_text(text: object, *, newlines: bool = False) -> str:
    """``text`` without escape sequences or control characters, safe to print to a terminal.

    Tabs and newlines become spaces unless ``newlines`` keeps them (``\\r`` is always dropped,
    as it lets a line overwrite itself). Call it on every id, flag and message that reaches a
    terminal or a CSV file; HTML still needs :func:`html.escape` on top.
    """
    text = CONTROL.sub("", str(text).replace("\r\n", "\n"))
    return text if newlines else text.replace("\n", " ").replace("\t", " ")


def html_page(title: str, body: str, css: str = "", images: str = "data:") -> str:
    """A whole page around ``body`` (already safe HTML): no script, a policy that forbids any."""
    policy = (
        f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(clean_text(title))}</title><style>{PAGE_CSS}{css}</style>"
        f"</head><body>{body}</body></html>"
    )


def esc(text: object) -> str:
    """``text`` cleaned of control characters and escaped for HTML."""
    return html.escape(clean_text(text))


def cap(text: str, limit: int, total: int | None = None) -> str:
    """``text`` cut to ``limit`` characters, saying how many of ``total`` were left out."""
    total = len(text) if total is None else total
    if total <= limit:
        return text
    return f"{text[:limit]}\n... ({total - limit:,} more characters not shown)"


def esc_block(text: str) -> str:
    """Multi-line text cleaned of control characters and escaped."""
    return html.escape(clean_text(text, newlines=True))


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: no control characters, never a formula."""
    text = clean_text(text)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def markdown_html(source: str) -> str:
    """Markdown rendered with raw HTML escaped, then passed through the tag allow-list."""
    text = clean_text(cap(source, MARKDOWN_LIMIT), newlines=True)
    return sanitize_html(markdown_renderer()(text))


@lru_cache(maxsize=1)
def markdown_renderer():
    import mistune

    class Renderer(mistune.HTMLRenderer):
        """Links only to safe addresses, no images loaded, maths as escaped LaTeX."""

        def link(self, text: str, url: str, title: str | None = None) -> str:
            if not safe_url(url):
                return text
            return f'<a href="{html.escape(url)}">{text}</a>'

        def image(self, text: str, url: str, title: str | None = None) -> str:
            return f"[image: {text}]"

        def inline_math(self, text: str) -> str:
            return f"<code class='math'>{html.escape(text)}</code>"

        def block_math(self, text: str) -> str:
            return f"<pre><code class='math'>{html.escape(text)}</code></pre>\n"

    return mistune.create_markdown(
        escape=True,
        renderer=Renderer(escape=True),
        plugins=["math", "table", "strikethrough"],
    )


def safe_url(url: str) -> bool:
    """Whether a link may point at ``url``: web and mail addresses and in-page anchors only."""
    squeezed = "".join(ch for ch in html.unescape(url) if ch > " " and ch != "\x7f").lower()
    return squeezed.startswith(SAFE_SCHEMES) or (squeezed.startswith("#") and ":" not in squeezed)


class Sanitizer(HTMLParser):
    """Re-emits HTML keeping only allowed tags; the only attribute kept is a safe ``href``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            return
        extra = ""
        href = dict(attrs).get("href") or ""
        if tag == "a" and safe_url(href):
            extra = f' href="{html.escape(href)}" rel="nofollow noopener noreferrer"'
        if tag == "code" and ("class", "math") in attrs:
            extra = ' class="math"'
        self.out.append(f"<{tag}{extra}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or tag not in self.open:
            return
        while self.open:
            last = self.open.pop()
            self.out.append(f"</{last}>")
            if last == tag:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def sanitize_html(fragment: str) -> str:
    """``fragment`` with every tag and attribute outside the allow-list removed (text kept)."""
    sanitizer = Sanitizer()
    sanitizer.feed(fragment)
    return sanitizer.result()
