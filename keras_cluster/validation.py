"""Argument validation in one place: declared constraints, checked by one function.

In the spirit of scikit-learn's `_parameter_constraints` (`sklearn/utils/_param_validation.py`),
written here so that the messages keep the Keras form. Each argument is declared as the list of
what it may be; `validate` accepts the value when any one of them holds and otherwise raises a
`ValueError` that names the argument, says what it should be and shows the value received:

```
validate("temperature", -1.0, Interval("real", 0, None, closed="neither"))
ValueError: `temperature` should be a float > 0. Received: temperature=-1.0
```

Constraints:

- `Interval(kind, low, high, closed)`: an integer (`kind="int"`) or a finite real number
  (`kind="real"`, integers included) between `low` and `high` (None: unbounded). Booleans are
  never numbers here.
- `Options(*values)`: one of the given values.
- `InstanceOf(*types, description=...)`: an instance of one of `types`.
- `None`: the value None.
- `"boolean"`: `True` or `False` (NumPy booleans included).
- `SequenceOf(constraint, min_length=1)`: a list, tuple or 1-D array whose items all satisfy
  `constraint`.
- `Satisfies(predicate, description)`: any other rule, a callable returning True for valid values.

The constraints used across the package are declared once at the end of this module
(`POSITIVE_INT`, `NON_NEGATIVE_INT`, `POSITIVE`, `NON_NEGATIVE`, `UNIT_INTERVAL`, `OPTIMIZER`).

Data arrays are checked by `check_array`, which also refuses SciPy sparse matrices clearly and
takes pandas DataFrames and integer arrays as scikit-learn does.
"""

import math
import numbers

import numpy as np

_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


class Interval:
    """An integer or a finite real number within `[low, high]` (bounds per `closed`).

    Args:
        kind: `"int"` (integers only) or `"real"` (any finite real number, integers included).
        low: lower bound, or None for none.
        high: upper bound, or None for none.
        closed: `"left"`, `"right"`, `"both"` or `"neither"`: which bounds belong to the interval.

    Example:

    >>> Interval("int", 1, None, closed="left").describe()
    'an integer >= 1'
    >>> Interval("real", 0, 1, closed="left").describe()
    'a float in [0, 1)'
    """

    def __init__(self, kind, low, high, *, closed):
        if kind not in ("int", "real"):
            raise ValueError(f"`kind` should be 'int' or 'real'. Received: kind={kind!r}")
        if closed not in _BRACKETS:
            raise ValueError(
                f"`closed` should be one of {tuple(_BRACKETS)}. Received: closed={closed!r}"
            )
        if low is not None and high is not None and low > high:
            raise ValueError(f"`low` should be <= `high`. Received: low={low!r}, high={high!r}")
        self.kind = kind
        self.low = low
        self.high = high
        self.closed = closed

    def is_satisfied_by(self, value):
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or not math.isfinite(value):
            return False
        low_closed = self.closed in ("left", "both")
        high_closed = self.closed in ("right", "both")
        if self.low is not None and (value < self.low or (value == self.low and not low_closed)):
            return False
        return self.high is None or not (
            value > self.high or (value == self.high and not high_closed)
        )

    def describe(self):
        noun = "an integer" if self.kind == "int" else "a float"
        if self.low is not None and self.high is not None:
            opening, closing = _BRACKETS[self.closed]
            return f"{noun} in {opening}{self.low}, {self.high}{closing}"
        if self.low is not None:
            return f"{noun} {'>=' if self.closed in ('left', 'both') else '>'} {self.low}"
        if self.high is not None:
            return f"{noun} {'<=' if self.closed in ('right', 'both') else '<'} {self.high}"
        return noun if self.kind == "int" else "a finite float"


class Options:
    """One of a fixed set of values: `==` for values of an option's type, None and booleans by `is`.

    Example:

    >>> Options("kmeans", "gmm").describe()
    "one of ('kmeans', 'gmm')"
    """

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, value):
        return any(_same_option(value, option) for option in self.values)

    def describe(self):
        return repr(self.values[0]) if len(self.values) == 1 else f"one of {self.values!r}"


def _same_option(value, option):
    """`value == option` for a value of the option's kind: 1 is not True, an array is no option."""
    if option is None or isinstance(option, bool):
        return value is option
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, type(option)):
        return False
    try:
        return bool(value == option)
    except (TypeError, ValueError):
        return False


class InstanceOf:
    """An instance of one of `types`, described as `description`."""

    def __init__(self, *types, description):
        self.types = types
        self.description = description

    def is_satisfied_by(self, value):
        return isinstance(value, self.types)

    def describe(self):
        return self.description


class SequenceOf:
    """A list, tuple or 1-D array of at least `min_length` items, each satisfying `constraint`.

    Args:
        constraint: what each item should be.
        min_length: the fewest items allowed.
        description: the words for the items, plural (default: from `constraint`).

    Example:

    >>> SequenceOf(Interval("int", 1, None, closed="left")).describe()
    'a non-empty sequence of integers >= 1'
    """

    def __init__(self, constraint, min_length=1, description=None):
        self.constraint = _as_constraint(constraint)
        self.min_length = min_length
        self.description = description

    def is_satisfied_by(self, value):
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                return False
            value = value.tolist()
        return (
            isinstance(value, (list, tuple))
            and len(value) >= self.min_length
            and all(self.constraint.is_satisfied_by(item) for item in value)
        )

    def describe(self):
        items = self.description or _plural(self.constraint.describe())
        if self.min_length == 0:
            return f"a sequence of {items}"
        if self.min_length == 1:
            return f"a non-empty sequence of {items}"
        return f"a sequence of at least {self.min_length} {items}"


def _plural(words):
    """`"an integer >= 1"` -> `"integers >= 1"`, `"a float > 0"` -> `"floats > 0"`."""
    for article in ("an ", "a "):
        if words.startswith(article):
            words = words[len(article) :]
            break
    noun, _, rest = words.partition(" ")
    return f"{noun}s {rest}".strip()


class Satisfies:
    """Whatever `predicate(value)` accepts (True), described as `description`.

    A predicate that raises `TypeError` or `ValueError` rejects the value.
    """

    def __init__(self, predicate, description):
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, value):
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def describe(self):
        return self.description


class _NoneConstraint:
    def is_satisfied_by(self, value):
        return value is None

    def describe(self):
        return "None"


class _Boolean:
    def is_satisfied_by(self, value):
        return isinstance(value, (bool, np.bool_))

    def describe(self):
        return "a boolean"


def _as_constraint(constraint):
    if constraint is None:
        return _NoneConstraint()
    if constraint == "boolean":
        return _Boolean()
    if not hasattr(constraint, "is_satisfied_by"):
        raise TypeError(f"Not a constraint: {constraint!r}")
    return constraint


def describe(*constraints):
    """What `constraints` allow, in words: `"None or an integer >= 1"`."""
    words = [_as_constraint(c).describe() for c in constraints]
    # "None" reads best first, as in "None or an integer >= 1".
    words.sort(key=lambda word: word != "None")
    return " or ".join(words)


def validate(name, value, *constraints):
    """Return `value` if it satisfies one of `constraints`, else raise a Keras-form ValueError.

    Args:
        name: the argument's name, as the user wrote it.
        value: the value received.
        *constraints: what the argument may be (see the module docstring).

    Returns:
        `value`, unchanged.

    Raises:
        ValueError: "`name` should be <what the constraints allow>. Received: name=<value>".

    Example:

    >>> validate("n_clusters", 3, Interval("int", 1, None, closed="left"))
    3
    >>> validate("alpha", 0.0, Interval("real", 0, None, closed="neither"))
    Traceback (most recent call last):
    ...
    ValueError: `alpha` should be a float > 0. Received: alpha=0.0
    """
    if not constraints:
        raise TypeError("`validate` needs at least one constraint.")
    if any(_as_constraint(c).is_satisfied_by(value) for c in constraints):
        return value
    raise ValueError(
        f"`{name}` should be {describe(*constraints)}. Received: {name}={describe_value(value)}"
    )


def validate_params(constraints, params):
    """Validate each `params[name]` against `constraints[name]` (a list of constraints).

    Names without constraints are not checked; names in `constraints` must be in `params`.

    Example:

    >>> positive = Interval("int", 1, None, closed="left")
    >>> validate_params({"n_clusters": [positive], "batch_size": [positive]},
    ...                 {"n_clusters": 3, "batch_size": 0})
    Traceback (most recent call last):
    ...
    ValueError: `batch_size` should be an integer >= 1. Received: batch_size=0
    """
    for name, allowed in constraints.items():
        validate(name, params[name], *allowed)


def describe_value(value):
    """The value as the message shows it: repr, arrays and sparse matrices by shape and dtype."""
    shape = getattr(value, "shape", None)
    if shape is not None and not np.isscalar(value) and len(tuple(shape)) > 0:
        return f"<{type(value).__name__} of shape {tuple(shape)} and dtype {value.dtype}>"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _is_sparse(value):
    return hasattr(value, "tocsr") and hasattr(value, "nnz")


def check_array(name, value, *, ndim=2, numeric=True, finite=True, dtype=None, shape_words=None):
    """`value` as a NumPy array of `ndim` dimensions, or a Keras-form ValueError.

    Takes what scikit-learn takes: lists, NumPy arrays of any numeric dtype (integers too), pandas
    DataFrames and Series. SciPy sparse matrices are refused with a message that says how to
    convert them (the models are dense).

    Args:
        name: the argument's name.
        value: the array-like received.
        ndim: the number of dimensions required (None: any).
        numeric: require a numeric (integer, unsigned, float) dtype.
        finite: reject NaN and inf (float dtypes only).
        dtype: if given, the dtype to convert the checked array to.
        shape_words: what the shape should be, in words (default: `"a {ndim}-D array"`).

    Returns:
        The checked NumPy array (a view or copy).

    Example:

    >>> check_array("x", [[1, 2], [3, 4]], dtype="float32").dtype
    dtype('float32')
    >>> check_array("x", [1.0, float("nan")], ndim=1)
    Traceback (most recent call last):
    ...
    ValueError: `x` should not contain NaN or inf. Received: x with 1 non-finite value(s) of 2
    """
    if value is None:
        raise ValueError(f"`{name}` should be an array. Received: {name}=None")
    if _is_sparse(value):
        raise ValueError(
            f"`{name}` should be a dense array: SciPy sparse input is not supported; convert it "
            f"with `{name}.toarray()`. Received: {name}={describe_value(value)}"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` should be an array (ragged or mixed rows are not). Received: "
            f"{name}={describe_value(value)}"
        ) from error
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"`{name}` should be {shape_words or f'a {ndim}-D array'}. Received: {name} with "
            f"ndim {array.ndim}, shape {array.shape}"
        )
    if numeric and array.dtype.kind not in "iuf":
        raise ValueError(
            f"`{name}` should hold numbers (an integer or float dtype). Received: {name} with "
            f"dtype {array.dtype}"
        )
    if finite and array.dtype.kind == "f":
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(
                f"`{name}` should not contain NaN or inf. Received: {name} with {bad} "
                f"non-finite value(s) of {array.size}"
            )
    return array if dtype is None else array.astype(dtype, copy=False)


def _is_optimizer(value):
    import keras

    keras.optimizers.get(value)
    return True


# The constraints that recur across the package, declared once.
POSITIVE_INT = Interval("int", 1, None, closed="left")
NON_NEGATIVE_INT = Interval("int", 0, None, closed="left")
POSITIVE = Interval("real", 0, None, closed="neither")
NON_NEGATIVE = Interval("real", 0, None, closed="left")
UNIT_INTERVAL = Interval("real", 0, 1, closed="both")
OPTIMIZER = Satisfies(_is_optimizer, "a Keras optimizer or its name")
