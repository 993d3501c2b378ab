#!/usr/bin/env python3
"""Compile-fail tests: each case must fail to compile with one error naming the fix.

usage: run.py INCLUDE_DIR CASE.cpp... -- COMPILER [ARGS...]

Each case states on its first line what it expects:
  // expect: <text>    compilation fails with exactly one error, and the output
                       contains <text> (whitespace is normalised)
  // expect: success   compilation succeeds (a positive control)
and optionally, on the next line, extra compiler flags:
  // flags: -Werror=unused-result
Cases are compiled with -std=c++20 -fsyntax-only.
"""

import re
import subprocess
import sys


def header(path):
    expect, flags = None, []
    with open(path, encoding="utf-8") as f:
        for line in f.readlines()[:3]:
            m = re.match(r"//\s*expect:\s*(.*\S)", line)
            if m:
                expect = m.group(1)
            m = re.match(r"//\s*flags:\s*(.*\S)", line)
            if m:
                flags = m.group(1).split()
    if expect is None:
        raise SystemExit(f"{path}: no '// expect:' line")
    return expect, flags


def squash(text):
    return " ".join(text.split())


def run_case(compiler, include, path):
    expect, flags = header(path)
    cmd = compiler + ["-std=c++20", "-fsyntax-only", "-fdiagnostics-color=never", "-I", include] + flags + [path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout
    errors = [line for line in out.splitlines() if re.search(r"\berror:", line)]
    if expect == "success":
        if proc.returncode != 0:
            return f"expected it to compile, but it failed:\n{out}"
        return None
    if proc.returncode == 0:
        return "expected a compile error, but it compiled"
    if squash(expect) not in squash(out):
        return f"the output does not contain '{expect}':\n{out}"
    if len(errors) != 1:
        return f"expected exactly one error, got {len(errors)}:\n" + "\n".join(errors)
    return None


def main(argv):
    if "--" not in argv:
        raise SystemExit(__doc__)
    split = argv.index("--")
    include, cases, compiler = argv[1], argv[2:split], argv[split + 1:]
    if not cases or not compiler:
        raise SystemExit(__doc__)
    failed = 0
    for path in cases:
        problem = run_case(compiler, include, path)
        name = path.rsplit("/", 1)[-1]
        if problem is None:
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {problem}")
    print(f"{len(cases) - failed} of {len(cases)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
