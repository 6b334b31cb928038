"""The README and every page under docs/ stay true to the repository.

Checked on README.md and docs/*.md: every repository path they name exists (and a
`path.py::name` defines `name`), every dotted module reference resolves, every `manage.py`
command and its flags exist, every flag given to a benchmark or script is one it parses, every
`make` target is in the Makefile, every URL is routed, every relative link (and its #anchor)
resolves, every page is listed in the docs index, every `VIGIA_` variable the code reads is on
the configuration page (and every one listed there is read), and the README stays a front door
of at most 300 lines.
"""
from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]

README_MAX_LINES = 300
# Flags no source of ours spells: argparse's own, and the Celery worker's (the deployment pages).
EXTERNAL_FLAGS = {"--help", "--loglevel"}

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TICKS = re.compile(r"`([^`\n]+)`")


@cache
def _top_level() -> tuple[str, ...]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return tuple(sorted({f.split("/")[0] for f in files if "/" in f}))


def _path_pattern() -> re.Pattern[str]:
    tops = "|".join(re.escape(t) for t in _top_level())
    return re.compile(rf"(?<![\w/.$~-])((?:{tops})/[A-Za-z0-9_./-]*)(?:::(\w+))?")


def _ignored(path: str) -> bool:
    # Tried as a directory too: a `dir/` rule matches a path that does not exist only so.
    return any(
        subprocess.run(["git", "check-ignore", "-q", p], cwd=ROOT).returncode == 0
        for p in (path, path.rstrip("/") + "/")
    )


def _split(text: str) -> tuple[list[str], list[str]]:
    """(prose lines, code-block lines) of a Markdown page."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        (code if fenced else prose).append(line)
    return prose, code


def _command_strings(text: str) -> list[str]:
    """Inline code spans, and code-block lines with their `[--flag]` continuation lines joined."""
    prose, code = _split(text)
    found = [m.group(1) for line in prose for m in TICKS.finditer(line)]
    for line in code:
        line = re.sub(r"\s#\s.*$", "", line)  # a shell comment
        if found and re.match(r"\s+\[?--", line) and code:
            found[-1] += " " + line.strip()
        else:
            found.append(line)
    return found


def _defines(source: Path, name: str) -> bool:
    text = source.read_text()
    return bool(re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b|^{name}\s*[:=]|\bimport\b.*\b{name}\b", text, re.M))


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_path_it_names_exists(page):
    pattern = _path_pattern()
    missing = []
    for m in pattern.finditer(page.read_text()):
        path, name = m.group(1).rstrip(".,:;"), m.group(2)
        if not (ROOT / path).exists():
            if not _ignored(path):  # a place a command creates (bench/.doccano-venv) is ignored by git
                missing.append(path)
        elif name and not _defines(ROOT / path, name):
            missing.append(f"{path}::{name}")
    assert not missing, f"{page.name} names paths that do not exist: {sorted(set(missing))}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_bare_file_names_in_a_table_cell_are_beside_the_cells_first_path(page):
    """`annotator/services/projects.py`, `project_settings.py`: the second is in the first's directory
    (or one above it: `integrations/api_keys/service.py`, `webhooks/service.py`)."""
    pattern = _path_pattern()
    missing = []
    for line in page.read_text().splitlines():
        if not line.startswith("|"):
            continue
        for cell in re.split(r"(?<!\\)\|", line):
            anchor = None
            for token in TICKS.findall(cell):
                token = token.split("::")[0].split(" ")[0]
                full = pattern.fullmatch(token)
                if full:
                    anchor = ROOT / full.group(1)
                    continue
                if anchor is None or not re.fullmatch(r"[\w/]+\.py|[\w]+/", token):
                    continue
                here = anchor if anchor.is_dir() else anchor.parent
                bases = [here, *here.parents]
                if not any((b / token).exists() for b in bases if ROOT in (b, *b.parents)):
                    missing.append(f"{token} (beside {anchor.relative_to(ROOT)})")
    assert not missing, f"{page.name}: {missing}"


def _resolve_dotted(ref: str) -> bool:
    parts = ref.split(".")
    if parts[0] == "config" and not _is_module(ROOT / "config" / parts[1]):
        return True  # `config.seed`: a field of a training run's config (an error's path), not our module
    for i in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:i])
        module = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if module.exists():
            rest = parts[i:]
            return not rest or _defines(module, rest[0])
    return False


def _is_module(base: Path) -> bool:
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_dotted_module_reference_resolves(page):
    apps = "annotator|models_zoo|config|tasks|integrations"
    refs = {
        m.group(1)
        for span in TICKS.findall(page.read_text())
        for m in re.finditer(rf"(?<![\w.])((?:{apps})(?:\.\w+)+)", span)
    }
    broken = sorted(r for r in refs if not _resolve_dotted(r))
    assert not broken, f"{page.name} names modules or attributes that do not exist: {broken}"


@cache
def _command_options(name: str) -> set[str]:
    app = get_commands()[name]
    parser = load_command_class(app, name).create_parser("manage.py", name)
    return set(parser._option_string_actions)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_manage_py_command_and_flag_exists(page):
    commands = get_commands()
    wrong = []
    for s in _command_strings(page.read_text()):
        for m in re.finditer(r"manage\.py\s+([a-z_]+)([^|;&]*)", s):
            name, rest = m.group(1), m.group(2)
            if name not in commands:
                wrong.append(f"manage.py {name}")
                continue
            wrong += [f"manage.py {name} {f}" for f in FLAG.findall(rest) if f not in _command_options(name)]
    assert not wrong, f"{page.name}: {wrong}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_flag_given_to_a_benchmark_or_script_is_one_it_parses(page):
    wrong = []
    for s in _command_strings(page.read_text()):
        for m in re.finditer(r"(?:((?:bench|scripts)/\w+\.py)|-m\s+(bench\.\w+))([^|;&]*)", s):
            script = ROOT / (m.group(1) or m.group(2).replace(".", "/") + ".py")
            if not script.exists():
                wrong.append(str(script.relative_to(ROOT)))
                continue
            source = script.read_text()
            wrong += [
                f"{script.relative_to(ROOT)} {f}"
                for f in FLAG.findall(m.group(3))
                if f'"{f}"' not in source and f"'{f}'" not in source
            ]
    assert not wrong, f"{page.name}: {wrong}"


@cache
def _all_parsed_flags() -> set[str]:
    sources = [
        *ROOT.glob("*/management/commands/*.py"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("scripts/*.py"),
        ROOT / "Makefile",
    ]
    return {f for p in sources for f in re.findall(r"""["'\s](--[a-z][a-z0-9-]*)""", p.read_text())}


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_flag_it_mentions_is_parsed_somewhere(page):
    flags = {f for s in _command_strings(page.read_text()) for f in FLAG.findall(s)}
    unknown = sorted(flags - _all_parsed_flags() - EXTERNAL_FLAGS)
    assert not unknown, f"{page.name} mentions flags no command, benchmark or script takes: {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_make_target_it_names_is_in_the_makefile(page):
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = {m for s in _command_strings(page.read_text()) for m in re.findall(r"(?<![\w-])make\s+([a-z][\w-]*)", s)}
    assert named <= targets, f"{page.name} names make targets that do not exist: {sorted(named - targets)}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def _anchors(page: Path) -> set[str]:
    prose, _ = _split(page.read_text())
    seen: dict[str, int] = {}
    anchors = set()
    for line in prose:
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            slug = _slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_relative_link_and_anchor_resolves(page):
    prose, _ = _split(page.read_text())
    broken = []
    for line in prose:
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not ours to check offline
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists() or ROOT not in dest.parents:
                broken.append(target)
            elif anchor and (dest.suffix != ".md" or anchor not in _anchors(dest)):
                broken.append(target)
    assert not broken, f"{page.name} has links that do not resolve: {broken}"


def test_the_readme_is_a_front_door_of_at_most_300_lines_linking_the_docs_index():
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "(docs/README.md)" in text
    for section in ("## The two commands", "## A tour of the loop", "## Where things are", "## Documentation"):
        assert section in text


def test_the_docs_index_lists_every_page():
    index = (DOCS / "README.md").read_text()
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(index)}
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert pages <= linked, f"docs/README.md does not list {sorted(pages - linked)}"


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The checkers themselves: a wrong path, command, flag, target or anchor is found."""
    assert _path_pattern().search("see `annotator/services/nothing_here.py`").group(1) == "annotator/services/nothing_here.py"
    assert not (ROOT / "annotator/services/nothing_here.py").exists()
    assert not _resolve_dotted("annotator.services.no_such_module")
    assert not _resolve_dotted("config.events.no_such_function")
    assert _resolve_dotted("config.events.emit")
    assert "--wait" in _command_options("train") and "--no-such-flag" not in _command_options("train")
    assert "no_such_command" not in get_commands()
    assert _command_strings("```sh\nmanage.py serve\n    [--no-worker]  # comment --x\n```") == ["manage.py serve [--no-worker]"]
    assert _slug("The test suite: `make test`") == "the-test-suite-make-test"
    assert _slug("More than one host: shared storage, CPU and GPU workers") == (
        "more-than-one-host-shared-storage-cpu-and-gpu-workers"
    )


def _env_reads(paths) -> set[str]:
    read = re.compile(r"""(?:os\.environ\.get\(|os\.environ\[|os\.getenv\(|env_bool\()\s*["']([A-Z][A-Z0-9_]+)["']""")
    return {m for p in paths for m in read.findall(p.read_text())}


def test_every_vigia_variable_the_code_reads_is_in_the_configuration_page_and_back():
    app_code = [p for d in ("annotator", "models_zoo", "integrations", "config", "tasks", "scripts") for p in (ROOT / d).rglob("*.py")]
    page = (DOCS / "configuration.md").read_text()
    read = {v for v in _env_reads(app_code) if v.startswith("VIGIA_")}
    assert read, "found no environment reads: the pattern above no longer matches the code"
    undocumented = sorted(v for v in read if f"`{v}`" not in page)
    assert not undocumented, f"docs/configuration.md does not mention {undocumented}"
    rows = set(re.findall(r"^\| `(VIGIA_[A-Z0-9_]+)`", page, re.M))
    tests_read = _env_reads((ROOT / "tests").rglob("*.py"))
    unread = sorted(rows - read - tests_read)
    assert not unread, f"docs/configuration.md lists variables nothing reads: {unread}"


# Spans that start with "/" and are not routes: files, a model root's example, the API's prefix,
# and the two prefixes deployment.md names to say what the proxy may (static) or must not serve.
NOT_ROUTES = {"/usr/bin/chromium", "/models/xlm-t", "/api/v1/", "/static/", "/media/"}


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_url_it_names_is_routed(page):
    """`GET /projects/{id}/index`, `/models/versions/{id}/`: a page or, under /api/v1/, a REST route."""
    unrouted = []
    for span in TICKS.findall(page.read_text()):
        for path in re.findall(r"(?:(?<=\s)|^)(/[\w{}<>.\-/]*)", span):
            if path == "/" or path in NOT_ROUTES:
                continue
            concrete = re.sub(r"\{[^}]*\}|<[^>]*>", "1", path)
            candidates = {concrete, concrete.rstrip("/") + "/"}
            candidates |= {"/api/v1" + c for c in candidates if not c.startswith("/api/v1/")}
            for candidate in candidates:
                try:
                    resolve(candidate)
                    break
                except Resolver404:
                    continue
            else:
                unrouted.append(path)
    assert not unrouted, f"{page.name} names URLs no route serves: {unrouted}"
