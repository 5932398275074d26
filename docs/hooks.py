"""mkdocs hooks: the site is built from the files users already read in the repository.

- `README.md` (the user guide) becomes the home page, `index.md`;
- `benchmarks/RESULTS.md` and the plots beside it, and `notebooks/*.ipynb`, are added at the same
  paths as in the repository, so the README's relative links resolve in the site as on GitHub;
- the marker `<!-- keras-cluster --help -->` in a page becomes the command line's help text.
"""

import contextlib
import io
import os
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
HELP_MARKER = "<!-- keras-cluster --help -->"


def _repository_files():
    yield ROOT / "benchmarks" / "RESULTS.md"
    # Only the committed report's plots: not those of local runs under benchmarks/results/.
    for pattern in ("*.png", "*.svg"):
        yield from sorted((ROOT / "benchmarks" / "plots").glob(pattern))
    yield from sorted((ROOT / "notebooks").glob("*.ipynb"))


# Before the plugins: mkdocs-jupyter picks the notebooks out of the file list.
@event_priority(100)
def on_files(files, config):
    files.append(File.generated(config, "index.md", abs_src_path=str(ROOT / "README.md")))
    for path in _repository_files():
        if path.is_file():
            # Rooted at the repository (not `File.generated`, whose source path mkdocs-jupyter
            # cannot see), so the page keeps its repository path.
            src_uri = path.relative_to(ROOT).as_posix()
            use_directory_urls = config["use_directory_urls"]
            files.append(File(src_uri, str(ROOT), config["site_dir"], use_directory_urls))
    return files


def _cli_help():
    from keras_cluster.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        with contextlib.redirect_stdout(io.StringIO()) as text:
            build_parser().print_help()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return text.getvalue()


def on_page_markdown(markdown, page, config, files):
    if HELP_MARKER in markdown:
        markdown = markdown.replace(HELP_MARKER, f"```text\n{_cli_help()}```")
    return markdown
