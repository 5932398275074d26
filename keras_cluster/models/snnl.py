"""Soft Nearest Neighbor Loss on chosen layers of any functional model, next to its own loss."""

import math

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.losses.snnl import DISTANCES, soft_nearest_neighbor_loss
from keras_cluster.validation import POSITIVE, Interval, Options, SequenceOf, validate

OUTPUT = "output"
FEATURES = "snnl_features"
TARGET = "target"
LABELS = "snnl_labels"
# The weight of SNNL on a layer: any finite float (negative: entangle).
WEIGHT = Interval("real", None, None, closed="neither")


@keras_cluster_export("keras_cluster.models.SoftNearestNeighborModel", keras_serializable=True)
class SoftNearestNeighborModel(keras.Model):
    """Wrap a functional model and add `weight * SNNL` of chosen layers to its compiled loss.

    Formula (T = temperature, y = SNNL labels, h_l = output of layer l):

    ```
    loss = compiled_loss(target, model(x)) + sum_l weight_l * SNNL(y, h_l, T) + regularizers
    ```

    Usable in a plain `fit`: `compile` the wrapper with the primary loss (cross-entropy,
    reconstruction, ...) as for the wrapped model. The labels for SNNL come from `y`:

    - `fit(x, y)`: `y` is both the primary target and the SNNL labels (a classifier).
    - `fit(x, {"target": t, "snnl_labels": y})`: `t` is the primary target (an autoencoder's
      `x`), `y` the class labels. Labels < 0 mark unlabelled samples: they take no part in SNNL
      (neither anchor nor neighbour) but still in the primary loss (semi-supervised training).

    During training the wrapper's `call` also returns the tapped features (so `compute_loss` sees
    them without a second forward pass); at inference (`predict`, `evaluate`, `model(x)`) it
    returns the wrapped model's outputs only, and `evaluate` reports the primary loss. The
    unweighted SNNL sum is logged as the metric `snnl`.

    Temperature: fixed (`temperature=`), annealed (`keras_cluster.callbacks.TemperatureAnnealing`
    writes `model.temperature`, a non-trainable variable), or learned (`learn_temperature=True`:
    a trainable `log_temperature`, always moved to *minimise* SNNL as in Frosst et al., even for
    layers with a negative weight, by flipping the sign of its gradient there).

    A negative `weight` maximises SNNL (entangles the classes in hidden layers, Frosst et al.'s
    regulariser); a positive one disentangles them (Agarap & Azcarraga's clustering codes).

    Args:
        model: a functional (or Sequential) `keras.Model`.
        layer_names: name or list of names of the layers whose outputs get SNNL.
        weight: float, or one float per layer.
        temperature: positive float, initial temperature.
        distance: `"cosine"` or `"euclidean"` (squared).
        learn_temperature: learn `log T` with the other weights.
        **kwargs: passed to `keras.Model` (`name`, ...).

    Example:

    >>> import keras, numpy as np
    >>> inputs = keras.Input((4,))
    >>> hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    >>> net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    >>> model = SoftNearestNeighborModel(net, "hidden", weight=0.1)
    >>> model.compile("adam", "sparse_categorical_crossentropy")
    >>> x, y = np.random.rand(64, 4), np.arange(64) % 2
    >>> _ = model.fit(x, y, batch_size=32, epochs=1, verbose=0)

    References:
        Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft
        Nearest Neighbor Loss", ICML 2019. Agarap & Azcarraga, "Improving k-Means Clustering
        Performance with Disentangled Internal Representations", IJCNN 2020.
    """

    def __init__(
        self,
        model,
        layer_names,
        weight=1.0,
        temperature=1.0,
        distance="cosine",
        learn_temperature=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(model, keras.Model) or not hasattr(model, "inputs"):
            raise ValueError(
                "`model` should be a functional or Sequential keras.Model. "
                f"Received: model={model!r}"
            )
        names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
        known = [layer.name for layer in model.layers]
        missing = [name for name in names if name not in known]
        if not names or missing:
            raise ValueError(
                f"`layer_names` should name layers of `model` ({known}). "
                f"Received: layer_names={layer_names!r}"
            )
        validate("weight", weight, WEIGHT, SequenceOf(WEIGHT))
        weights = [weight] * len(names) if WEIGHT.is_satisfied_by(weight) else list(weight)
        if len(weights) != len(names):
            raise ValueError(
                f"`weight` should be a float or one float per layer ({len(names)}). "
                f"Received: weight={weight!r}"
            )
        validate("temperature", temperature, POSITIVE)
        validate("distance", distance, Options(*DISTANCES))
        validate("learn_temperature", learn_temperature, "boolean")
        self.base_model = model
        self.layer_names = names
        self.weight = weight
        self.layer_weights = [float(w) for w in weights]
        self.initial_temperature = float(temperature)
        self.distance = distance
        self.learn_temperature = bool(learn_temperature)
        features = [model.get_layer(name).output for name in names]
        self.tapped = keras.Model(model.input, (model.outputs, features), name="tapped")
        self._single_output = len(model.outputs) == 1
        if self.learn_temperature:
            self.log_temperature = self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(math.log(temperature)),
                trainable=True,
                name="log_temperature",
            )
        else:
            self._temperature = self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(temperature),
                trainable=False,
                name="temperature",
            )
        self.snnl_tracker = keras.metrics.Mean(name="snnl")

    @property
    def temperature(self):
        """The temperature: a variable when fixed or annealed, `exp(log_temperature)` if learned."""
        if self.learn_temperature:
            return ops.exp(self.log_temperature)
        return self._temperature

    def call(self, inputs, training=None):
        outputs, features = self.tapped(inputs, training=training)
        outputs = outputs[0] if self._single_output else outputs
        if training:
            return {OUTPUT: outputs, FEATURES: features}
        return outputs

    @staticmethod
    def _split(y, y_pred):
        if isinstance(y_pred, dict) and set(y_pred) == {OUTPUT, FEATURES}:
            y_pred, features = y_pred[OUTPUT], y_pred[FEATURES]
        else:
            features = None
        if isinstance(y, dict) and LABELS in y:
            return y.get(TARGET), y[LABELS], y_pred, features
        return y, y, y_pred, features

    def snnl(self, labels, features):
        """`(sum_l weight_l * SNNL_l, sum_l SNNL_l)` for the tapped `features`."""
        labels = ops.convert_to_tensor(labels)
        valid = None
        if len(labels.shape) == 1 or (len(labels.shape) == 2 and labels.shape[-1] == 1):
            valid = ops.reshape(labels >= 0, (-1,))
        temperature = self.temperature
        weighted, total = 0.0, 0.0
        for weight, feature in zip(self.layer_weights, features, strict=True):
            layer_temperature = temperature
            if self.learn_temperature and weight < 0:
                held = ops.stop_gradient(temperature)
                layer_temperature = 2.0 * held - temperature
            value = soft_nearest_neighbor_loss(
                labels, feature, layer_temperature, self.distance, valid=valid
            )
            weighted = weighted + weight * value
            total = total + value
        return weighted, total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target, labels, y_pred, features = self._split(y, y_pred)
        if features is not None and labels is None:
            raise ValueError(
                "SoftNearestNeighborModel needs class labels to train: pass `y` (labels) or "
                f"`y={{'{TARGET}': targets, '{LABELS}': labels}}` to `fit`. Received: y=None"
            )
        if self._compile_loss is None and not self.losses:
            loss = ops.zeros(())
        else:
            loss = super().compute_loss(x, target, y_pred, sample_weight, training=training)
        if features is not None:
            weighted, total = self.snnl(labels, features)
            self.snnl_tracker.update_state(total)
            loss = loss + ops.cast(weighted, loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        target, _, y_pred, _ = self._split(y, y_pred)
        return super().compute_metrics(x, target, y_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            model=keras.saving.serialize_keras_object(self.base_model),
            layer_names=self.layer_names,
            weight=self.weight,
            temperature=self.initial_temperature,
            distance=self.distance,
            learn_temperature=self.learn_temperature,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        model = keras.saving.deserialize_keras_object(config.pop("model"))
        return cls(model, **config)
