"""The documentation's links do not rot: every relative link and image in README.md, conf/README.md
and docs/*.md points to an existing file, every `#anchor` to a heading of its page (GitHub's slugs)
or an explicit `<a id>`, and every repository path written as code (`benchmarks/rehearsal.py`,
`conf/demo/dvc.yaml`, in backticks or code blocks) exists in a fresh clone."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Paths that runs write and a fresh clone lacks (git-ignored, or outputs of conf/base, hmdb51 and the
# rehearsal, which are not committed), so the docs may name them without their existing. The demos' committed
# reports (data/demo/08_reporting/, data/demo_hmdb51/08_reporting/) are not in this list: they are checked.
GENERATED = (
    "data/0*",               # conf/base's data root: everything in it is made by a run
    "data/hmdb51", "data/hmdb51/*",
    "data/rehearsal", "data/rehearsal/*",
    "data/smoke", "data/smoke/*",  # `make smoke`'s runs (git-ignored)
    "data/*/01_raw/*",        # archives, unpacked videos (git-ignored)
    "data/*/03_primary/frames*",
    "data/*/06_models/*",     # checkpoints (git-ignored, in DVC's cache)
    "data/*/07_model_output/*",
    # Only the root's (conf/base) and the demo's DVC files are committed; the other environments'
    # are written when first run (`make repro KEDRO_ENV=<env>`, `make rehearsal`).
    "conf/rehearsal/dvc.*", "conf/rehearsal_kinetics/dvc.*", "conf/hmdb51/dvc.*", "conf/demo_hmdb51/dvc.*",
    "conf/local/*",           # your own, git-ignored files
)
# Where a path written as code starts, for it to be read as a path of this repository.
REPO_DIRS = ("conf", "src", "tests", "benchmarks", "docs", "notebooks", "data", ".dvc")
PATH_IN_CODE = re.compile(r"(?<![\w./~-])((?:" + "|".join(map(re.escape, REPO_DIRS)) + r")/[\w./-]*)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\s(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\s(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)


def documentation() -> list[Path]:
    return [ROOT / "README.md", ROOT / "conf" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def split_code(text: str) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and those inside."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return prose, code


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lowercased, punctuation dropped except - and
    _, each space a hyphen."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    found, seen = set(), {}
    for line in prose:
        found.update(HTML_ANCHOR.findall(line))
        if match := HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def generated(relative: str) -> bool:
    return any(fnmatch.fnmatch(relative.rstrip("/"), pattern) for pattern in GENERATED)


def problems(path: Path, root: Path = ROOT) -> list[str]:
    """What is broken in one Markdown file: links, images and anchors, and repository paths in code."""
    text = path.read_text(encoding="utf-8")
    prose, code = split_code(text)
    name = path.relative_to(root).as_posix()
    found = []
    for line in prose:
        bare = INLINE_CODE.sub("", line)
        for target in MD_LINK.findall(bare) + HTML_LINK.findall(bare):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):   # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                found.append(f"{name}: link to a missing file: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                found.append(f"{name}: link to a missing heading: {target}")
    snippets = [span for line in prose for _, span in INLINE_CODE.findall(line)] + code
    for snippet in snippets:
        for match in PATH_IN_CODE.finditer(snippet):
            relative = match.group(1).rstrip(".")
            following = snippet[match.end():match.end() + 1]
            if following and following in "<{*$[" or "..." in relative or generated(relative):
                continue   # a pattern (conf/<env>/, split_{1,2}), an elision, or a run's output
            if not (root / relative).exists():
                found.append(f"{name}: path written as code does not exist: {relative}")
    return found


def test_links_images_anchors_and_paths_exist():
    broken = [problem for path in documentation() for problem in problems(path)]
    assert not broken, "\n".join(broken)


def test_the_checker_finds_what_is_broken(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "real.py").write_text("")
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Seed spread (`demo_spread.py --seeds`)\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n## A heading, with punctuation\n\n"
        "[ok](docs/other.md#seed-spread-demo_spreadpy---seeds) [ok](#a-heading-with-punctuation) "
        "`src/real.py` `conf/<env>/dvc.yaml` `data/06_models/split_1/best.pt` [web](https://kedro.org)\n"
        "[gone](docs/missing.md) [no heading](docs/other.md#seed-spread) [here](#nowhere)\n"
        '<img src="docs/images/none.png" alt="x">\n'
        "```bash\npython src/missing.py\n```\n"
    )
    assert problems(page, tmp_path) == [
        "README.md: link to a missing file: docs/missing.md",
        "README.md: link to a missing heading: docs/other.md#seed-spread",
        "README.md: link to a missing heading: #nowhere",
        "README.md: link to a missing file: docs/images/none.png",
        "README.md: path written as code does not exist: src/missing.py",
    ]
