#!/usr/bin/env python3
"""Checks the relative links of the repository's Markdown files.

For every *.md in the repository root and in docs/, each relative link
`[text](path#anchor)` (images and reference definitions `[x]: path` too)
must name a file or directory that exists, and an anchor must match a
heading of the target Markdown file under GitHub's slug rules: lowercase,
punctuation dropped except `-` and `_`, spaces to `-`, a repeated slug
suffixed `-1`, `-2`, ... Links with a scheme (https:, mailto:) are not
checked; neither is anything inside code spans or fenced code blocks.

Usage: python3 tools/check-links.py [ROOT]   (default: the repository root)
Prints one line per broken link and exits 1 if there is any, else prints a
count and exits 0.
"""

import os
import re
import sys
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target) and ![alt](target); target up to the first space or ')'.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def strip_code(lines):
    """Yields (line number, text) outside fenced blocks, code spans blanked."""
    fence = None
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if m and m.group(1).startswith(fence):
                fence = None
            continue
        yield n, line


def slug(text):
    """GitHub's heading anchor: inline markup removed, then the slug."""
    text = CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.strip().lower()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_" or cat[0] in "LN" or cat == "Mn":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def anchors(path, cache={}):
    """The set of anchors of a Markdown file's headings."""
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    seen = {}
    result = set()
    prev = None
    for _, line in strip_code(lines):
        m = HEADING.match(line)
        text = None
        if m:
            text = m.group(2)
        elif prev is not None and prev.strip() and SETEXT.match(line) and not HEADING.match(prev):
            text = prev.strip()
        prev = line
        if text is None:
            continue
        s = slug(text)
        if s in seen:
            seen[s] += 1
            s = f"{s}-{seen[s]}"
        else:
            seen[s] = 0
        result.add(s)
    # Explicit HTML anchors: <a name="x"> or id="x".
    with open(path, encoding="utf-8") as f:
        for m in re.finditer(r"<a\s+(?:name|id)=\"([^\"]+)\"", f.read()):
            result.add(m.group(1))
    cache[path] = result
    return result


def links(path):
    """(line number, target) of each link in a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in strip_code(lines):
        m = REF_DEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        bare = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        for m in INLINE_LINK.finditer(bare):
            yield n, m.group(1)


def check(root):
    files = sorted(
        os.path.join(d, f)
        for d in (root, os.path.join(root, "docs"))
        if os.path.isdir(d)
        for f in os.listdir(d)
        if f.endswith(".md")
    )
    broken = []
    count = 0
    for md in files:
        rel_md = os.path.relpath(md, root)
        for n, target in links(md):
            if not target or SCHEME.match(target):
                continue
            count += 1
            path, _, anchor = target.partition("#")
            path = unquote(path)
            dest = md if not path else os.path.normpath(os.path.join(os.path.dirname(md), path))
            where = f"{rel_md}:{n}: {target}"
            if path.startswith("/"):
                broken.append(f"{where}: absolute path")
                continue
            if not os.path.exists(dest):
                broken.append(f"{where}: no file {os.path.relpath(dest, root)}")
                continue
            if anchor:
                if not dest.endswith(".md") or os.path.isdir(dest):
                    broken.append(f"{where}: anchor on a file that is not Markdown")
                elif unquote(anchor) not in anchors(dest):
                    broken.append(f"{where}: no heading #{anchor} in {os.path.relpath(dest, root)}")
    return files, count, broken


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    root = os.path.normpath(root)
    files, count, broken = check(root)
    for b in broken:
        print(b)
    if broken:
        print(f"{len(broken)} broken of {count} relative links in {len(files)} files")
        return 1
    print(f"ok: {count} relative links in {len(files)} files resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
