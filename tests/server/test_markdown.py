"""Minutes written in Markdown are shown as HTML with whatever HTML the writer typed escaped."""

from server.templating import markdown_html


def test_markdown_becomes_html_and_typed_html_stays_text() -> None:
    html = markdown_html(
        "## 决议\n\n1. 冻结需求\n\n<script>alert(1)</script> [x](javascript:alert(1))"
    )
    assert "<h2>决议</h2>" in html and "<li>冻结需求</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
