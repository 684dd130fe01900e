"""examples/train_lenet.py: a few training steps of its LeNet through fastconv against the
same model, initial weights, batches and Adam updates through tf.GradientTape (tf.nn ops),
and a short run of the script itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import tensorflow as tf

from run_script import run_python
from tolerance import assert_close

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_lenet.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_lenet", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lenet = load_example()


def tf_loss_and_grads(params, x, labels):
    """The example's model written with tf.nn ops, differentiated by GradientTape."""
    variables = {k: tf.Variable(v) for k, v in params.items()}
    with tf.GradientTape() as tape:
        a1 = tf.nn.relu(tf.nn.conv2d(x, variables["w1"], 1, "SAME") + variables["b1"])
        p1 = tf.nn.max_pool2d(a1, lenet.POOL, lenet.POOL, "VALID")
        a2 = tf.nn.relu(tf.nn.conv2d(p1, variables["w2"], 1, "SAME") + variables["b2"])
        p2 = tf.nn.max_pool2d(a2, lenet.POOL, lenet.POOL, "VALID")
        logits = tf.reshape(p2, (len(x), -1)) @ variables["w3"] + variables["b3"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    grads = tape.gradient(loss, variables)
    return float(loss), {k: g.numpy() for k, g in grads.items()}


def test_training_steps_match_tensorflow():
    """Five Adam steps from the same weights on the same batches: the losses, gradients and
    weights agree to float32 rounding, within the suite's tolerance for the longest sum (a
    filter gradient's, over the batch's pixels; measured: 6e-7 of the largest gradient,
    2e-6 of the largest weight)."""
    x_train, _, y_train, _ = lenet.load_data(0)
    ours, theirs = lenet.init_params(0), lenet.init_params(0)
    opt_ours, opt_theirs = lenet.Adam(ours), lenet.Adam(theirs)
    rng = np.random.default_rng(1)
    for step in range(5):
        idx = rng.choice(len(x_train), 32, replace=False)
        x, labels = x_train[idx], y_train[idx]
        loss, grads = lenet.loss_and_grads(ours, x, labels)
        tf_loss, tf_grads = tf_loss_and_grads(theirs, x, labels)
        reduction = x.shape[0] * x.shape[1] * x.shape[2]
        np.testing.assert_allclose(loss, tf_loss, rtol=1e-6, err_msg=f"step {step}")
        for k in grads:
            assert_close(grads[k], tf_grads[k], reduction, np.float32, f"gradient {k}, step {step}")
        opt_ours.step(ours, grads)
        opt_theirs.step(theirs, tf_grads)
        for k in ours:
            assert_close(ours[k], theirs[k], reduction, np.float32, f"{k} after step {step}")
    assert loss < 2.5  # a real loss of a 10-class softmax, not NaN or 0


def test_script_runs_and_saves_the_curve(tmp_path):
    """Two epochs of the script as a user runs it: it learns, prints and saves the PNG."""
    png = tmp_path / "curve.png"
    result = run_python(
        f"import runpy; runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')",
        args=["--epochs", "2", "--no-progress", "--plot", png],
        timeout=300,
    )
    assert "test accuracy" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 80.0, result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
