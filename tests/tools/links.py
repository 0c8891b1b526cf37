#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The documents' links lead somewhere.

    links.py [ROOT]        check the repository (N passed, N failed)
    links.py --self-test   only prove, on temporary files, that it fails

Every tracked Markdown file (`git ls-files`; a walk of the tree without git):

- a relative link, [text](path) or [label]: path, names a file or a folder
  of the repository (relative to the file, or to the top with a leading /);
- a link with an anchor, [text](#part) or [text](path#part) into another
  Markdown file, names a heading of that file, by GitHub's rules: the heading's text in
  lower case, without its markup, without punctuation but - and _, each
  blank a -, and the second "part" as part-1; or an <a name="part"> /
  id="part" there.  A link into another kind of file may only name lines
  (#L12, #L12-L20).

Every tracked text file, and the pages themselves: a man page it names,
bmsgw...(N) (bmsgw(8), bmsgw.ini(5), bmsgw-bms(7) ...), is a page that
`make install` ships (read from `make -n install`), in that section.

Links inside code (fenced blocks, `spans`) are not links, and addresses
(https://...) are not checked: the suite runs offline.  Before it checks
the repository it runs its self-test: a temporary tree with a dead file
link, a dead anchor into another file, a dead anchor in the same file, a
dead link in a reference definition and a page that is not shipped, each
of which must be found (and the good links beside them must not).

The top README.md stays at most 450 lines (a feature's reference goes to
its man page, the README says what and where: gateway/README.md,
"Documenting a feature"); the self-test proves 451 fails.
"""
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold one level of [...]
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
LINE_ANCHOR = re.compile(r"^L\d+(-L\d+)?$")
# a man page named in the text: bmsgw(8), bmsgw.ini(5), bmsgw-bms(7); in a
# page's source ".BR bmsgw\-bms (7)" (the blank, and \- for -)
MANREF = re.compile(r"(?<![\w.-])(bmsgw(?:[.-][a-z0-9]+)*) ?\(([1-9])\)")


def tracked(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True)
        files = [f for f in out.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for top, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__")]
        files += [os.path.relpath(os.path.join(top, n), root) for n in names]
    return sorted(files)


def text_of(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for no, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield no, line


def slug(heading):
    """GitHub's anchor of a heading's text (before the -N of repeats)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)                       # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"(\*{1,3}|_{1,3})(\S(?:.*?\S)?)\1", r"\2", text)  # emphasis
    text = text.lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor a Markdown text offers: its headings' (GitHub's rules,
    repeats numbered) and its HTML anchors."""
    out, seen = set(), {}
    prev = None
    for _, line in prose_lines(text):
        heading = None
        m = ATX.match(line)
        if m:
            heading = m.group(2)
        elif prev is not None and prev.strip() and SETEXT.match(line) and not prev.startswith((" " * 4, "\t")) \
                and not re.match(r"^\s*([-*+]|\d+\.)\s", prev) and "|" not in prev:
            heading = prev.strip()
        if heading is not None:
            base = slug(heading)
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else "%s-%d" % (base, n))
        out.update(a for a in HTML_ANCHOR.findall(line))
        prev = line
    return out


def paragraphs(text):
    """(first line number, lines) of the paragraphs outside fenced code: runs
    of lines between blank lines (a link's text may go over lines)."""
    block, first, prev_no = [], 0, 0
    for no, line in prose_lines(text):
        if block and (no != prev_no + 1 or not line.strip()):
            yield first, block
            block = []
        if line.strip():
            if not block:
                first = no
            block.append(line)
        prev_no = no
    if block:
        yield first, block


def links(text):
    """(line number, target) of every link of a Markdown text.  Reference
    definitions ([label]: target) open a paragraph: they cannot interrupt
    one, so "[S12]: the ..." inside a paragraph is text."""
    for first, block in paragraphs(text):
        k = 0
        while k < len(block):
            m = REFDEF.match(CODE_SPAN.sub(lambda c: " " * len(c.group(0)), block[k]))
            if not m:
                break
            yield first + k, m.group(1)
            k += 1
        body = "\n".join(block[k:])
        bare = CODE_SPAN.sub(lambda c: re.sub(r"[^\n]", " ", c.group(0)), body)
        for m in INLINE.finditer(bare):
            yield first + k + bare.count("\n", 0, m.start(1)), m.group(1)


def check_link(root, rel, target, names, anchor_cache):
    """The problem with one link of file rel, or None."""
    target = target[1:-1] if target.startswith("<") and target.endswith(">") else target
    if SCHEME.match(target) or target.startswith("//"):
        return None  # an address: not checked offline
    path, _, frag = target.partition("#")
    path = urllib.parse.unquote(path)
    frag = urllib.parse.unquote(frag)
    if path:
        if path.startswith("/"):
            full = os.path.normpath(os.path.join(root, path.lstrip("/")))
        else:
            full = os.path.normpath(os.path.join(root, os.path.dirname(rel), path))
        inside = os.path.relpath(full, root)
        if inside.startswith(".."):
            return "%s leads out of the repository" % target
        if inside not in names and not os.path.isdir(full):
            return "%s: no such file in the repository" % target
    else:
        full, inside = os.path.join(root, rel), rel
    if not frag:
        return None
    if not inside.endswith(".md"):
        return None if LINE_ANCHOR.match(frag) else "%s: an anchor into %s, which is not Markdown" % (target, inside)
    if inside not in anchor_cache:
        anchor_cache[inside] = anchors(text_of(full) or "")
    if frag not in anchor_cache[inside]:
        return "%s: %s has no heading or anchor #%s" % (target, inside, frag)
    return None


def shipped_pages(root):
    """{(name, section)} of the man pages `make install` installs."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-n", "-C", root, "install", "DESTDIR=/nonexistent-links-check"],
                       capture_output=True, text=True, env=env)
    pages = set()
    for line in r.stdout.splitlines():
        words = line.split()
        if not words or words[0] != "install" or not re.search(r"/man[1-9]/?$", words[-1]):
            continue
        for w in words[1:-1]:
            m = re.fullmatch(r"(?:.*/)?([\w.-]+)\.([1-9])", w)
            if m:
                pages.add((m.group(1), m.group(2)))
    return pages


def check(root, files, pages):
    """[(file, line, problem)] of the tracked files of root."""
    names = set(files)
    problems, cache = [], {}
    for rel in files:
        text = text_of(os.path.join(root, rel))
        if text is None:
            continue
        if rel.endswith(".md"):
            for no, target in links(text):
                p = check_link(root, rel, target, names, cache)
                if p:
                    problems.append((rel, no, p))
        for no, line in enumerate(text.splitlines(), 1):
            for name, sec in MANREF.findall(line.replace("\\-", "-")):
                if (name, sec) not in pages:
                    problems.append((rel, no, "%s(%s) is not a page that make install ships" % (name, sec)))
    return problems


SELF_TEST = {
    "a.MD": """# A title

[good](b.MD) [good anchor](b.MD#second-heading) [repeat](b.MD#second-heading-1)
[good self](#a-title) [folder](sub) [code link](page.ROFF#L1) [address](https://example.org/x#y)
[dead file](missing.MD)
[dead anchor](b.MD#nope)
[dead self](#no-such-part) [a link over
two lines](b.MD#gone-too)

[label]: gone.MD
`[not a link](nowhere.MD)`
[S12]: inside a paragraph, text
bmsgw.ini(5) and bmsgw-bms(7) are shipped; NOPE(7) is not.

```
[in a fence](nowhere.MD)
```
""",
    "b.MD": """# Title with `code` and *stress*

## Second heading

## Second heading

Setext heading
--------------

<a name="here"></a>
""",
    "sub/c.MD": """[up](UP/a.MD#a-title) [setext](UP/b.MD#setext-heading) [html](UP/b.MD#here)
[code and stress](UP/b.MD#title-with-code-and-stress)
""",
    "page.ROFF": """.BR bmsgw\\-bms (7),
.BR GONE (7)
""",
}
# Written with placeholders, so that this file names none of these files
# and pages itself (test_selfcontained.py): .MD is .md, UP/ is ../, NOPE
# and GONE the pages that are not shipped.
NOPE, GONE = "bmsgw-" "nope", "bmsgw\\-" "gone"


def unmask(text):
    return text.replace(".MD", ".md").replace("UP/", "../").replace("NOPE", NOPE).replace("GONE", GONE)


SELF_TEST = {unmask(k): unmask(v) for k, v in SELF_TEST.items()}
SELF_WANT = {tuple(unmask(x) if isinstance(x, str) else x for x in w) for w in {
    ("a.MD", 5, "missing.MD: no such file in the repository"),
    ("a.MD", 6, "b.MD#nope: b.MD has no heading or anchor #nope"),
    ("a.MD", 7, "#no-such-part: a.MD has no heading or anchor #no-such-part"),
    ("a.MD", 8, "b.MD#gone-too: b.MD has no heading or anchor #gone-too"),
    ("a.MD", 10, "gone.MD: no such file in the repository"),
    ("a.MD", 13, NOPE + "(7) is not a page that make install ships"),
    ("page.ROFF", 2, GONE.replace("\\", "") + "(7) is not a page that make install ships"),
}}


README_MOST = 450  # the top README says what and where; the reference is in the man pages


def readme_fits(root):
    """The top README's length and whether it fits (gateway/README.md,
    "Documenting a feature")."""
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        n = sum(1 for _ in f)
    return n, n <= README_MOST


def self_test():
    """(passed, failed): the checker finds exactly the dead links of a
    temporary tree."""
    with tempfile.TemporaryDirectory(prefix="bmsgw-links-") as top:
        for rel, text in SELF_TEST.items():
            os.makedirs(os.path.join(top, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(top, rel), "w") as f:
                f.write(text)
        got = set(check(top, sorted(SELF_TEST), {("bmsgw.ini", "5"), ("bmsgw-bms", "7")}))
        lengths = []
        for n in (README_MOST, README_MOST + 1):
            with open(os.path.join(top, "README.md"), "w") as f:
                f.write("line\n" * n)
            lengths.append(readme_fits(top)[1])
    passed = failed = 0
    if lengths == [True, False]:
        passed += 1
        print("ok   self-test: a README of %d lines fits, one of %d does not" % (README_MOST, README_MOST + 1))
    else:
        failed += 1
        print("FAIL self-test: README of %d and %d lines: fits %s" % (README_MOST, README_MOST + 1, lengths))
    for want in sorted(SELF_WANT):
        if want in got:
            passed += 1
            print("ok   self-test finds %s:%d: %s" % want)
        else:
            failed += 1
            print("FAIL self-test misses %s:%d: %s" % want)
    for extra in sorted(got - SELF_WANT):
        failed += 1
        print("FAIL self-test reports a good link: %s:%d: %s" % extra)
    return passed, failed


def main(argv):
    passed, failed = self_test()
    if argv[1:2] == ["--self-test"]:
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    root = os.path.abspath(argv[1] if len(argv) > 1 else ROOT)
    files = tracked(root)
    pages = shipped_pages(root)
    if ("bmsgw", "8") in pages and ("bmsgw.ini", "5") in pages:
        passed += 1
        print("ok   make -n install ships %s" % ", ".join("%s(%s)" % p for p in sorted(pages)))
    else:
        failed += 1
        print("FAIL make -n install: no bmsgw(8) and bmsgw.ini(5) among %s" % sorted(pages))
    n, fits = readme_fits(root)
    if fits:
        passed += 1
        print("ok   README.md: %d lines, at most %d" % (n, README_MOST))
    else:
        failed += 1
        print("FAIL README.md: %d lines, more than %d: a feature's reference goes to its man page "
              "(gateway/README.md, \"Documenting a feature\")" % (n, README_MOST))
    md = [f for f in files if f.endswith(".md")]
    problems = check(root, files, pages)
    for rel in md:
        mine = [p for p in problems if p[0] == rel]
        if mine:
            failed += 1
            for p in mine:
                print("FAIL %s:%d: %s" % p)
        else:
            passed += 1
            print("ok   %s: every link and page reference leads somewhere" % rel)
    others = [p for p in problems if not p[0].endswith(".md")]
    for p in others:
        print("FAIL %s:%d: %s" % p)
    if others:
        failed += 1
    else:
        passed += 1
        print("ok   the other %d tracked files name only shipped pages" % (len(files) - len(md)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
