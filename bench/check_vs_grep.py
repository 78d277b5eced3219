"""Bench: ``r2d-tui check`` on a generated 1 GB / 10 000-file repository vs ``grep``.

Issues #4 and #9: finding build-time ``/.dockerenv`` reliance must take at most 0.3 s on a
1 GB / 10 000-file repository and be faster than ``grep -rIl /.dockerenv`` over the same
tree, because r2d-tui reads only what the build runs (and small code files for the
run-time info rule) while grep reads every text file.

The repository looks like a data-heavy Binder repo: binder/ config with a postBuild that
calls a script testing /.dockerenv, Python/R/shell code, notebooks, Markdown docs, and
1 GB of CSV (text) and binary data files. It is generated once (deterministic content)
under --dir and reused. Both tools run with a warm page cache, interleaved, N rounds.

    python bench/check_vs_grep.py [--dir /tmp/r2d-bench-1g] [--rounds 5] [--size-mb 1024]
                                  [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import goal, parse_args, report, rounds, time_command  # noqa: E402

FILES = 10_000


def generate(root: Path, size_mb: int) -> None:
    marker = root / ".r2d-bench-complete"
    if marker.exists() and marker.read_text() == f"{size_mb}\n":
        return
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(42)
    (root / "binder").mkdir(parents=True)
    (root / "binder" / "environment.yml").write_text(
        "channels: [conda-forge]\ndependencies:\n  - python=3.12\n  - numpy\n  - pandas\n"
    )
    (root / "binder" / "postBuild").write_text(
        "#!/bin/bash\nset -e\nbash scripts/setup_env.sh\npython -m analysis.prepare\n"
    )
    (root / "scripts").mkdir()
    (root / "scripts" / "setup_env.sh").write_text(
        "#!/bin/bash\nif [ -f /.dockerenv ]; then\n  echo 'building in docker'\nfi\n"
    )
    code_files = 200
    notebooks = 100
    docs = 100
    data_files = FILES - code_files - notebooks - docs - 4
    (root / "analysis").mkdir()
    (root / "analysis" / "__init__.py").write_text("")
    (root / "analysis" / "prepare.py").write_text("import os\nprint('preparing')\n")
    for index in range(code_files):
        folder = root / "analysis" / f"mod{index // 50}"
        folder.mkdir(exist_ok=True)
        body = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(150))
        (folder / f"m{index}.py").write_text(body)
    (root / "notebooks").mkdir()
    for index in range(notebooks):
        cell = '{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["x = %d\\n"]}'
        cells = ",".join(cell % i for i in range(400))
        (root / "notebooks" / f"nb{index}.ipynb").write_text(
            '{"cells": [' + cells + '], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
        )
    (root / "docs").mkdir()
    for index in range(docs):
        (root / "docs" / f"page{index}.md").write_text(
            "# Notes\n\nThe classic builder created /.dockerenv; BuildKit does not.\n" * 20
        )
    per_file = size_mb * 1024 * 1024 // data_files
    line = ",".join(f"{rng.random():.6f}" for _ in range(12)) + "\n"
    block = (line * (per_file // len(line) + 1))[:per_file].encode()
    binary = rng.randbytes(per_file)
    (root / "data").mkdir()
    for index in range(data_files):
        folder = root / "data" / f"part{index // 500}"
        folder.mkdir(exist_ok=True)
        if index % 2:
            (folder / f"d{index}.csv").write_bytes(block)
        else:
            (folder / f"d{index}.bin").write_bytes(binary[:8] + b"\0" + binary[9:])
    marker.write_text(f"{size_mb}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="/tmp/r2d-bench-1g")
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parse_args(parser, rounds=5)
    root = Path(args.dir)
    generate(root, args.size_mb)
    files = sum(len(f) for _, _, f in os.walk(root))
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"repository: {root} ({files} files, {size / 1024**3:.2f} GiB)")
    r2d = shutil.which("r2d-tui") or str(Path(sys.executable).parent / "r2d-tui")
    # warm the page cache for both
    time_command(["grep", "-rIl", "/.dockerenv", str(root)], ok=(0, 1))
    time_command([r2d, "check", "--select", "migration", str(root)], ok=(0, 1))
    results = rounds(
        {
            "grep -rIl /.dockerenv": lambda: time_command(
                ["grep", "-rIl", "/.dockerenv", str(root)], ok=(0, 1)
            ),
            "r2d-tui check --select migration": lambda: time_command(
                [r2d, "check", "--select", "migration", str(root)], ok=(0, 1)
            ),
            "r2d-tui check (all rules)": lambda: time_command(
                [r2d, "check", str(root)], ok=(0, 1)
            ),
        },
        args.rounds,
    )
    medians = report(results)
    grep = medians["grep -rIl /.dockerenv"]
    for name in ("r2d-tui check --select migration", "r2d-tui check (all rules)"):
        print(f"ratio {name} / grep: {medians[name] / grep:.2f}  "
              f"({'faster' if medians[name] < grep else 'slower'} than grep)")
    print()
    for name in ("r2d-tui check --select migration", "r2d-tui check (all rules)"):
        goal(f"{name} on {files} files / {size / 1024**3:.2f} GiB", medians[name], grep,
             target=0.3, max_ratio=0.999)


if __name__ == "__main__":
    main()
