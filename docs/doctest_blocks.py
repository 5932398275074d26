"""Griffe extension: the docstrings as Python sees them, their doctest examples shown as code.

Our docstrings write their examples as Keras does (`Example:` then unindented `>>>` lines, run
by `pytest --doctest-modules`); Markdown would render them as a paragraph and read `[1, 0]` in
an output line as a link. This fences each run of `>>>` / `...` lines and their output, up to the
next blank line, as a `pycon` block, the way the Keras site renders its docstrings. Only the
rendered docs change, never the docstring that the doctests run.

A class whose docstring is built at import time (`__doc__ = TEMPLATE.format(...)`, as the
clustering metrics share one) has none for static analysis: it is read from the imported class.
"""

import inspect

import griffe

FENCE = "```"


def fence_doctests(text):
    """`text` with every doctest run wrapped in a ```` ```pycon ```` fence."""
    lines = text.splitlines()
    fenced = []
    in_fence = False  # inside a fence already written in the docstring
    in_doctest = False
    doctest_indent = ""
    for line in lines:
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if in_doctest and not stripped:
            fenced.append(doctest_indent + FENCE)
            in_doctest = False
        elif not in_doctest and not in_fence and stripped.startswith(">>>"):
            doctest_indent = indent
            fenced.append(indent + FENCE + "pycon")
            in_doctest = True
        elif not in_doctest and stripped.startswith(FENCE):
            in_fence = not in_fence
        fenced.append(line)
    if in_doctest:
        fenced.append(doctest_indent + FENCE)
    return "\n".join(fenced)


def _runtime_docstring(obj):
    if not obj.is_class:
        return None
    doc = getattr(griffe.dynamic_import(obj.path), "__doc__", None)
    return griffe.Docstring(inspect.cleandoc(doc), parent=obj) if doc else None


class DoctestBlocks(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is None:
            obj.docstring = _runtime_docstring(obj)
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
