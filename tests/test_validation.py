import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from keras_cluster.validation import (
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    SequenceOf,
    check_array,
    describe,
    validate,
    validate_params,
)

POSITIVE_INT = Interval("int", 1, None, closed="left")


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Nothing Keras here: skip the session clearing of `conftest.py`."""
    yield


POSITIVE = Interval("real", 0, None, closed="neither")
UNIT = Interval("real", 0, 1, closed="both")


@pytest.mark.parametrize(
    "constraint, good, bad",
    [
        (POSITIVE_INT, [1, 7, np.int64(3), 10**12], [0, -1, 1.0, 2.5, True, np.bool_(True), "3"]),
        (Interval("int", 0, None, closed="left"), [0, 5], [-1, False]),
        (POSITIVE, [1e-9, 1, 2.5, np.float32(0.5)], [0, 0.0, -1.0, np.nan, np.inf, True, "1"]),
        (UNIT, [0, 0.0, 0.5, 1, 1.0], [-1e-9, 1.0000001, np.nan]),
        (Interval("real", 0, 1, closed="left"), [0.0, 0.999], [1.0, -0.1]),
        (Interval("real", 0, 1, closed="right"), [1.0, 0.1], [0.0]),
        (Interval("real", 1, 2, closed="neither"), [1.5], [1.0, 2.0]),
        (Interval("real", None, 0, closed="right"), [0.0, -5.0], [0.1]),
        (Interval("real", None, None, closed="neither"), [-1e30, 0.0], [np.inf, -np.inf, np.nan]),
        (Options("kmeans", "gmm"), ["kmeans", "gmm"], ["KMeans", None, 1, np.array(["kmeans"])]),
        (Options("global", None), ["global", None], ["none", 0, False]),
        (Options(0, 1), [0, 1], [True, False, 2, 0.5]),
        (None, [None], [0, "", False]),
        ("boolean", [True, False, np.bool_(False)], [0, 1, None, "True"]),
        (InstanceOf(str, description="a string"), ["", "x"], [1, None]),
        (
            SequenceOf(POSITIVE_INT),
            [(1,), [3, 4], (np.int64(2), 5), np.array([2, 3])],
            [(), [], (1, 0), "12", 3, np.array([[2]]), np.array([1.0])],
        ),
        (SequenceOf(InstanceOf(str, description="a name"), min_length=0), [[], ("a",)], [[1]]),
        (SequenceOf(POSITIVE_INT, min_length=2), [(28, 28)], [(784,)]),
        (Satisfies(lambda v: int(v) % 2 == 0, "an even number"), [2, "4"], [3, "x", None]),
    ],
)
def test_constraints_accept_and_reject(constraint, good, bad):
    for value in good:
        assert validate("arg", value, constraint) is value
    for value in bad:
        with pytest.raises(ValueError, match=r"^`arg` should be .*\. Received: arg="):
            validate("arg", value, constraint)


@pytest.mark.parametrize(
    "constraints, words",
    [
        ((POSITIVE_INT,), "an integer >= 1"),
        ((Interval("int", 2, None, closed="neither"),), "an integer > 2"),
        ((POSITIVE,), "a float > 0"),
        ((UNIT,), "a float in [0, 1]"),
        ((Interval("real", 0, 1, closed="left"),), "a float in [0, 1)"),
        ((Interval("real", 0, 1, closed="right"),), "a float in (0, 1]"),
        ((Interval("real", None, 1, closed="neither"),), "a float < 1"),
        ((Interval("real", None, None, closed="neither"),), "a finite float"),
        ((Options("full", "batch"),), "one of ('full', 'batch')"),
        ((POSITIVE_INT, None), "None or an integer >= 1"),
        ((Options("auto"), Interval("int", 0, None, closed="left")), "'auto' or an integer >= 0"),
        (("boolean",), "a boolean"),
        ((SequenceOf(POSITIVE_INT),), "a non-empty sequence of integers >= 1"),
        ((SequenceOf(POSITIVE, min_length=2),), "a sequence of at least 2 floats > 0"),
        ((SequenceOf(InstanceOf(str, description="a name"), min_length=0),), "a sequence of names"),
    ],
)
def test_description(constraints, words):
    assert describe(*constraints) == words


def test_message_has_the_keras_form():
    with pytest.raises(ValueError) as error:
        validate("temperature", -1.0, POSITIVE)
    assert str(error.value) == "`temperature` should be a float > 0. Received: temperature=-1.0"
    with pytest.raises(ValueError) as error:
        validate("n_components", 0, POSITIVE_INT, None)
    assert str(error.value) == (
        "`n_components` should be None or an integer >= 1. Received: n_components=0"
    )
    with pytest.raises(ValueError) as error:
        validate("init", np.zeros((2, 3)), Options("kmeans"))
    assert "Received: init=<ndarray of shape (2, 3) and dtype float64>" in str(error.value)
    with pytest.raises(ValueError) as error:
        validate("name", "x" * 1000, Options("a"))
    assert len(str(error.value)) < 300 and str(error.value).endswith("...")


def test_any_one_constraint_is_enough():
    assert validate("finetune_epochs", "auto", Options("auto"), POSITIVE_INT) == "auto"
    assert validate("finetune_epochs", 3, Options("auto"), POSITIVE_INT) == 3
    with pytest.raises(ValueError, match="finetune_epochs='Auto'"):
        validate("finetune_epochs", "Auto", Options("auto"), POSITIVE_INT)


def test_satisfies_treats_a_raising_predicate_as_false():
    def raises(value):
        raise TypeError("no")

    with pytest.raises(ValueError, match="`x` should be anything. Received: x=1"):
        validate("x", 1, Satisfies(raises, "anything"))


def test_validate_params_checks_every_declared_name_in_order():
    constraints = {"n_clusters": [POSITIVE_INT], "alpha": [POSITIVE]}
    validate_params(constraints, {"n_clusters": 2, "alpha": 1.0, "undeclared": object()})
    with pytest.raises(ValueError, match="n_clusters=0"):
        validate_params(constraints, {"n_clusters": 0, "alpha": -1.0})
    with pytest.raises(ValueError, match="alpha=-1.0"):
        validate_params(constraints, {"n_clusters": 1, "alpha": -1.0})
    with pytest.raises(KeyError):
        validate_params(constraints, {"n_clusters": 1})


def test_bad_declarations_fail_loudly():
    with pytest.raises(ValueError, match="kind='float'"):
        Interval("float", 0, 1, closed="both")
    with pytest.raises(ValueError, match="closed='open'"):
        Interval("real", 0, 1, closed="open")
    with pytest.raises(ValueError, match="low=2, high=1"):
        Interval("real", 2, 1, closed="both")
    with pytest.raises(TypeError, match="Not a constraint"):
        validate("x", 1, int)
    with pytest.raises(TypeError, match="at least one constraint"):
        validate("x", 1)


@pytest.mark.parametrize(
    "value",
    [
        [[1, 2], [3, 4]],
        np.array([[1, 2], [3, 4]], dtype=np.int64),
        np.array([[1, 2], [3, 4]], dtype=np.uint8),
        np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
        pd.DataFrame({"a": [1, 3], "b": [2.0, 4.0]}),
    ],
)
def test_check_array_takes_what_scikit_learn_takes(value):
    array = check_array("x", value, dtype="float32")
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (None, {}, "`x` should be an array. Received: x=None"),
        (np.zeros(3), {}, "`x` should be a 2-D array. Received: x with ndim 1, shape (3,)"),
        (np.zeros((2, 2, 2)), {}, "`x` should be a 2-D array. Received: x with ndim 3, shape "),
        (np.zeros(3), {"shape_words": "2-D, (n, d)"}, "`x` should be 2-D, (n, d). Received: x"),
        (
            np.array([["a", "b"]]),
            {},
            "`x` should hold numbers (an integer or float dtype). Received: x with dtype <U1",
        ),
        (np.ones((2, 2), bool), {}, "should hold numbers"),
        (
            [[1.0, np.nan], [0.0, 1.0]],
            {},
            "`x` should not contain NaN or inf. Received: x with 1 non-finite value(s) of 4",
        ),
        ([[np.inf, -np.inf]], {}, "with 2 non-finite value(s) of 2"),
        ([[1, 2], [3]], {}, "`x` should be an array (ragged or mixed rows are not)"),
        (
            scipy.sparse.csr_matrix(np.eye(3)),
            {},
            "`x` should be a dense array: SciPy sparse "
            "input is not supported; convert it with `x.toarray()`. Received: x=<csr_matrix of "
            "shape (3, 3) and dtype float64>",
        ),
        (pd.Series([1.0, np.nan]), {"ndim": 1}, "should not contain NaN"),
    ],
)
def test_check_array_rejects_clearly(value, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_array("x", value, **kwargs)


def test_check_array_options():
    assert check_array("labels", ["a", "b"], ndim=1, numeric=False).tolist() == ["a", "b"]
    assert np.isnan(check_array("x", [np.nan], ndim=1, finite=False)).all()
    assert check_array("x", np.zeros((2, 3, 4)), ndim=None).shape == (2, 3, 4)
    original = np.zeros((2, 2), np.float32)
    assert check_array("x", original, dtype="float32") is original
