"""Every ```python block of README.md runs, in order, in one namespace (as a reader would run them).

One test per block; a block's test first runs the blocks before it that have not run yet, so a
single block can be selected with `-k`. The blocks write their files (`dec.keras`, ...) into a
temporary folder.
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(text):
    """`(line, source)` of each ```python block, `line` where its code starts (1-based)."""
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in FENCE.finditer(text)
    ]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_python_blocks_are_found():
    """Guards the parametrised test below, which would pass with no cases."""
    assert len(BLOCKS) >= 8, f"expected the README's tour, found {len(BLOCKS)} python blocks"
    sample = "text\n```python\nx = 1\n```\n\n```bash\nls\n```\n```python\ny = 2\n```\n"
    assert python_blocks(sample) == [(3, "x = 1\n"), (10, "y = 2\n")]


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """The namespace the blocks share, the number of blocks run, and their folder."""
    return {"namespace": {"__name__": "readme"}, "ran": 0, "cwd": tmp_path_factory.mktemp("readme")}


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"line{line}" for line, _ in BLOCKS])
def test_readme_block_runs(index, reader, monkeypatch):
    monkeypatch.chdir(reader["cwd"])
    while reader["ran"] <= index:
        line, source = BLOCKS[reader["ran"]]
        code = compile("\n" * (line - 1) + source, str(README), "exec")
        reader["ran"] += 1  # a failing block is not run again by the tests after it
        exec(code, reader["namespace"])
