#!/usr/bin/env python3
"""Writes the status column of RELIABILITY.md from a test run.

    scripts/reliability-status.py            runs the test targets the tables name, then writes
    scripts/reliability-status.py LOG...     reads the output of earlier runs instead

A LOG is what `cargo test` printed (both streams, default format: `Running …` and
`test NAME ... ok|FAILED|ignored` lines), e.g. `cargo test --release --workspace 2>&1 | tee LOG`,
or what pytest printed with `-rp` (`PASSED file.py::test` summary lines: scripts/test-python.sh);
with several, a test counts as run if any of them ran it, failed if any of them failed it.

Each table with a `test(s)` and a `status` column gets, per row: `pass` when every test the row
names passed, `FAIL (…)` when one failed, `not run` when none ran (ignored, or not in the logs),
`pass; not run: …` in between. A row names its tests in backticks: `path/to/file.rs::test`
(integration tests: the function; unit tests: the path below the file's module, as
`file.rs::tests::name`; pytest: `path/to/test_x.py::test_name`); `file.rs::test` when the file
name (or its end) is unique in the repository or was named in full above; `::name` for another test beside the one named just
before (same file, same module); a bare `file.rs` for all its tests. A cell starting with `same`
names the tests of the row above too. A named test that is not in its file, or a file that is
not in the repository, is an error: the table cannot name a test that does not exist.
"""

import datetime
import functools
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "RELIABILITY.md")
STAMP = "Last status run:"

REF = re.compile(r"^(?:(?P<file>[\w./-]+\.rs|(?:[\w./-]+/)?test_\w+\.py))?(?P<test>(?:::\w+)*)$")
RUNNING = re.compile(r"^\s*Running (?:unittests )?\S+ \((?:\S*/)?deps/(\w+?)-[0-9a-f]+(?:\.exe)?\)")
RESULT = re.compile(r"^test (\S+) \.\.\. (?:(ok|FAILED|ignored)\b)?")
LATE_RESULT = re.compile(r"^(ok|FAILED|ignored)$")  # after a test's own output (--nocapture)
PYTEST = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (?:\S*/)?(test_\w+\.py)::(\w+)")
PYTEST_RESULT = {"PASSED": "ok", "XPASS": "ok", "FAILED": "FAILED", "ERROR": "FAILED"}
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def fail(msg):
    sys.exit(f"reliability-status: {msg}")


@functools.cache
def rust_files():
    """The repository's Rust files, and its pytest files (`test_*.py`)."""
    out = subprocess.run(
        ["git", "ls-files", "*.rs", "*/test_*.py"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    )
    return tuple(out.stdout.split())


def cargo_names(pkg_dir):
    """Names of the package's lib and bin targets, as test binaries are named."""
    names, section = set(), None
    with open(os.path.join(ROOT, pkg_dir, "Cargo.toml")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            m = re.match(r'name\s*=\s*"([^"]+)"', line)
            if m and section in ("[package]", "[lib]", "[[bin]]"):
                names.add(m.group(1).replace("-", "_"))
    return names


def module_files(path):
    """The file and the files of its submodules (`a.rs` and `a/…`)."""
    below = os.path.dirname(path) if os.path.basename(path) in ("lib.rs", "main.rs", "mod.rs") \
        else path[:-3]
    return [path] + [f for f in rust_files() if f.startswith(below + "/")]


def defines(path, fn):
    keyword = "def" if path.endswith(".py") else "fn"
    with open(os.path.join(ROOT, path)) as f:
        return re.search(rf"\b{keyword} {fn}\b", f.read()) is not None


def package_dir(path):
    d = os.path.dirname(path)
    while d and not os.path.isfile(os.path.join(ROOT, d, "Cargo.toml")):
        d = os.path.dirname(d)
    return d


class Ref:
    """A test, or all tests of a file: where cargo reports them and how to tell them."""

    def __init__(self, label, path, test):
        self.label, self.path, self.test = label, path, test
        if path.endswith(".py"):  # a pytest file: its results are read as `pytest:FILE`
            self.integration, self.binaries, self.prefix = False, {"pytest:" + os.path.basename(path)}, ""
            if test and not defines(path, test):
                fail(f"{label}: no test `{test}` in {path}")
            return
        pkg = package_dir(path)
        rel = os.path.relpath(path, pkg or ".")
        parts = rel.split("/")
        self.integration = parts[0] == "tests" and len(parts) == 2
        if self.integration:
            self.binaries = {parts[1][:-3]}
            self.prefix = ""
        elif parts[0] == "src":
            self.binaries = cargo_names(pkg)
            mods = parts[1:]
            mods[-1] = mods[-1][:-3]
            if mods[-1] in ("lib", "main", "mod"):
                mods.pop()
            self.prefix = "::".join(mods)
        else:
            fail(f"{label}: {path} is neither an integration test nor a crate source file")
        if test:
            fn = test.split("::")[-1]
            if not any(defines(f, fn) for f in module_files(path)):
                fail(f"{label}: no test `{fn}` in {path} or its submodules")

    def results(self, runs):
        if self.test:
            name = f"{self.prefix}::{self.test}" if self.prefix else self.test
            return [r for (b, t), r in runs.items() if b in self.binaries and t == name]
        start = f"{self.prefix}::" if self.prefix else ""
        return [r for (b, t), r in runs.items() if b in self.binaries and t.startswith(start)]


class Resolver:
    def __init__(self):
        self.files = rust_files()
        self.named = []  # files named in full so far, most recent last
        self.last = None  # the last Ref: `::x` is another test of its file and module

    def ref(self, token):
        m = REF.match(token)
        if not m or not (m.group("file") or m.group("test")):
            return None
        file, test = m.group("file"), m.group("test")[2:]
        if file is None:
            if self.last is None or not self.last.test:
                fail(f"`{token}`: no test named before it")
            path = self.last.path
            test = "::".join(self.last.test.split("::")[:-1] + [test])
        else:
            path = self.resolve(file, token)
        self.last = Ref(token, path, test)
        return self.last

    def resolve(self, file, token):
        if file in self.files:
            self.named.append(file)
            return file
        matches = [f for f in self.files if f.endswith("/" + file)]
        earlier = [f for f in reversed(self.named) if f in matches]
        if earlier:
            return earlier[0]
        if len(matches) == 1:
            return matches[0]
        fail(f"`{token}`: {len(matches)} files end with {file}: {matches}")


def read_runs(logs):
    runs, binary, pending = {}, None, None
    rank = {"ignored": 0, "ok": 1, "FAILED": 2}

    def record(name, result):
        key = (binary, name)
        if rank[result] >= rank[runs.get(key, "ignored")]:
            runs[key] = result

    for log in logs:
        with open(log, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                m = PYTEST.match(line)
                if m:
                    key = ("pytest:" + m.group(2), m.group(3))
                    result = PYTEST_RESULT.get(m.group(1), "ignored")
                    if rank[result] >= rank[runs.get(key, "ignored")]:
                        runs[key] = result
                    continue
                m = RUNNING.match(line)
                if m:
                    binary, pending = m.group(1), None
                    continue
                m = RESULT.match(line)
                if m and binary:
                    pending = None if m.group(2) else m.group(1)
                    if m.group(2):
                        record(m.group(1), m.group(2))
                    continue
                m = LATE_RESULT.match(line.strip())
                if m and pending:
                    record(pending, m.group(1))
                    pending = None
    return runs


def status(refs, runs):
    failed, passed, not_run = [], [], []
    for r in refs:
        results = r.results(runs)
        if "FAILED" in results:
            failed.append(r.label)
        elif "ok" in results:  # a whole file: its ignored tests are another row's business
            passed.append(r.label)
        else:
            not_run.append(r.label)
    if failed:
        return "FAIL (" + ", ".join(f"`{x}`" for x in failed) + ")"
    if not passed:
        return "not run"
    if not_run:
        return "pass; not run: " + ", ".join(f"`{x}`" for x in not_run)
    return "pass"


def cells(line):
    return UNESCAPED_PIPE.split(line.rstrip("\n"))


def rows(lines):
    """(line index, cells, status column, the tests named) of each row of a table with a
    `test(s)` and a `status` column."""
    columns, resolver, previous = None, Resolver(), []
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            columns = None
            continue
        parts = cells(line)
        names = [c.strip() for c in parts]
        if columns is None:  # a table's header row
            columns = ()
            if "test(s)" in names and "status" in names:
                columns = (names.index("test(s)"), names.index("status"))
            continue
        if not columns or set(line.strip()) <= set("|- "):
            continue
        tests, stat = columns
        cell = parts[tests].strip()
        refs = list(previous) if cell.startswith("same") else []
        for token in re.findall(r"`([^`]+)`", cell):
            r = resolver.ref(token)
            if r:
                refs.append(r)
        if not refs:
            fail(f"a row names no test: {line.strip()}")
        previous = refs
        yield i, parts, stat, refs


def run_tests(table):
    """Runs every unit test and the integration tests the tables name; returns the log."""
    refs = [r for _, _, _, row in table for r in row]
    binaries = sorted({b for r in refs if r.integration for b in r.binaries})
    cmd = ["cargo", "test", "--release", "--workspace", "--no-fail-fast", "--lib", "--bins"]
    for b in binaries:
        cmd += ["--test", b]
    log = tempfile.NamedTemporaryFile("w", prefix="reliability-", suffix=".log", delete=False)
    print("running:", " ".join(cmd), file=sys.stderr)
    with subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as p:
        for line in p.stdout:
            sys.stderr.write(line)
            log.write(line)
    log.close()
    print(f"reliability-status: test output kept in {log.name}", file=sys.stderr)
    return [log.name]


def main(argv):
    if any(a.startswith("-") for a in argv):
        print(__doc__)
        return 0 if argv in (["-h"], ["--help"]) else 2
    with open(DOC) as f:
        lines = f.readlines()
    table = list(rows(lines))  # checks every name before any test runs
    logs = argv or run_tests(table)
    runs = read_runs(logs)
    if not runs:
        fail(f"no `test NAME ... ok|FAILED|ignored` or pytest `PASSED …` line in {logs}")
    for i, parts, stat, refs in table:
        parts[stat] = f" {status(refs, runs)} "
        lines[i] = "|".join(parts) + "\n"
    counts = {k: sum(1 for v in runs.values() if v == k) for k in ("ok", "FAILED", "ignored")}
    failed = [f"`{b}::{t}`" for (b, t), r in sorted(runs.items()) if r == "FAILED"]
    stamp = (
        f"{STAMP} {datetime.date.today()}, {len(runs)} test results read "
        f"({counts['ok']} ok, {counts['FAILED']} failed, {counts['ignored']} ignored)"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + ".\n"
    )
    lines = [stamp if l.startswith(STAMP) else l for l in lines]
    with open(DOC, "w") as f:
        f.writelines(lines)
    statuses = [cells(lines[i])[stat] for i, _, stat, _ in table]
    for word, what in (("FAIL", "failing"), ("not run", "with tests not run")):
        n = sum(1 for x in statuses if word in x)
        if n:
            print(f"reliability-status: {n} row(s) {what}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
