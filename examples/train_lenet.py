"""Train a LeNet on scikit-learn's handwritten digits with NumPy and fastconv only.

conv 5x5 (6) -> relu -> max pool 2x2 -> conv 3x3 (16) -> relu -> max pool 2x2 -> dense (10)
-> softmax, on the 1797 8x8 digit images that ship with scikit-learn (no download). Every
convolution and pooling runs forward AND backward through fastconv (conv2d with fused bias
and relu, conv2d_backprop_input, conv2d_backprop_filter with the bias gradient fused,
max_pool2d, max_pool2d_grad); the dense layer, the softmax and Adam are a few lines of
NumPy. Run it:

    python examples/train_lenet.py --plot lenet_digits.png

It prints the test accuracy (98.3% after 15 epochs with the default seed; 96-98% with
others) and the wall time, and saves the loss/accuracy curve. The model's functions
(init_params, forward, backward, loss_and_grads, Adam) are importable, so a test can run
the same steps through another framework.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastconv

CONV1 = (5, 5, 1, 6)  # HWIO
CONV2 = (3, 3, 6, 16)
POOL = 2  # 2x2 windows, stride 2: 8x8 -> 4x4 -> 2x2
CLASSES = 10
FEATURES = 2 * 2 * CONV2[3]


def load_data(seed: int = 0, test_fraction: float = 0.2):
    """The digits as float32 NHWC images in [0, 1] and int labels: (x_train, x_test,
    y_train, y_test), split with a fixed seed (train_test_split's order)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (1797, 8, 8, 1)
    return train_test_split(
        x, digits.target, test_size=test_fraction, random_state=seed, stratify=digits.target
    )


def init_params(seed: int = 0) -> dict[str, np.ndarray]:
    """He-normal weights, zero biases, float32."""
    rng = np.random.default_rng(seed)

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    return {
        "w1": he(CONV1, 5 * 5 * 1),
        "b1": np.zeros(CONV1[3], np.float32),
        "w2": he(CONV2, 3 * 3 * 6),
        "b2": np.zeros(CONV2[3], np.float32),
        "w3": he((FEATURES, CLASSES), FEATURES),
        "b3": np.zeros(CLASSES, np.float32),
    }


def forward(params, x):
    """Logits of a batch of NHWC images, and what backward needs."""
    a1 = fastconv.conv2d(x, params["w1"], 1, "SAME", bias=params["b1"], activation="relu")
    p1 = fastconv.max_pool2d(a1, POOL, POOL, "VALID")
    a2 = fastconv.conv2d(p1, params["w2"], 1, "SAME", bias=params["b2"], activation="relu")
    p2 = fastconv.max_pool2d(a2, POOL, POOL, "VALID")
    flat = p2.reshape(len(x), -1)
    logits = flat @ params["w3"] + params["b3"]
    return logits, (x, a1, p1, a2, p2, flat)


def backward(params, cache, dlogits):
    """The gradients of every parameter, given the loss's gradient by the logits."""
    x, a1, p1, a2, p2, flat = cache
    grads = {"w3": flat.T @ dlogits, "b3": dlogits.sum(axis=0)}
    dp2 = (dlogits @ params["w3"].T).reshape(p2.shape)
    dz2 = fastconv.max_pool2d_grad(a2, p2, dp2, POOL, POOL, "VALID") * (a2 > 0)  # relu'
    grads["w2"], grads["b2"] = fastconv.conv2d_backprop_filter(
        p1, CONV2, dz2, 1, "SAME", return_bias_grad=True
    )
    dp1 = fastconv.conv2d_backprop_input(p1.shape, params["w2"], dz2, 1, "SAME")
    dz1 = fastconv.max_pool2d_grad(a1, p1, dp1, POOL, POOL, "VALID") * (a1 > 0)
    grads["w1"], grads["b1"] = fastconv.conv2d_backprop_filter(
        x, CONV1, dz1, 1, "SAME", return_bias_grad=True
    )
    return grads


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) and its gradient by the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), (dlogits / n).astype(np.float32)


def loss_and_grads(params, x, labels):
    logits, cache = forward(params, x)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    return loss, backward(params, cache, dlogits)


class Adam:
    """Adam (Kingma & Ba), updating the parameter arrays in place."""

    def __init__(self, params, lr=3e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        scale = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            params[k] -= (scale * self.m[k] / (np.sqrt(self.v[k]) + self.eps)).astype(np.float32)


def accuracy(params, x, labels) -> float:
    return float((forward(params, x)[0].argmax(axis=1) == labels).mean())


def train(epochs=15, batch_size=16, lr=5e-3, seed=0, progress=True):
    """Trains from init_params(seed); returns (params, history) with the per-step losses
    and the per-epoch test accuracies."""
    x_train, x_test, y_train, y_test = load_data(seed)
    params = init_params(seed)
    opt = Adam(params, lr)
    rng = np.random.default_rng(seed)
    steps = -(-len(x_train) // batch_size)
    history = {"loss": [], "test_accuracy": [], "steps_per_epoch": steps}
    bar = _progress_bar(progress)
    with bar:
        task = bar.add_task("training", total=epochs * steps)
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            for s in range(steps):
                idx = order[s * batch_size : (s + 1) * batch_size]
                loss, grads = loss_and_grads(params, x_train[idx], y_train[idx])
                opt.step(params, grads)
                history["loss"].append(loss)
                bar.update(
                    task, advance=1, description=f"epoch {epoch + 1}/{epochs} loss {loss:.3f}"
                )
            history["test_accuracy"].append(accuracy(params, x_test, y_test))
    return params, history


def _progress_bar(enabled):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def plot(history, path):
    """Training loss per step and test accuracy per epoch, side by side, saved to path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    steps = history["steps_per_epoch"]
    left.plot(np.arange(1, len(history["loss"]) + 1) / steps, history["loss"], lw=0.8)
    left.set(
        xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log", title="loss per step"
    )
    epochs = np.arange(1, len(history["test_accuracy"]) + 1)
    right.plot(epochs, 100 * np.array(history["test_accuracy"]), marker="o")
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    right.grid(alpha=0.3)
    fig.suptitle("LeNet on scikit-learn digits, NumPy + fastconv")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="fastconv threads (default: all the CPUs it may use)",
    )
    parser.add_argument(
        "--plot", default="lenet_digits.png", help="where to save the loss/accuracy curve (PNG)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.threads is not None:
        fastconv.set_num_threads(args.threads)
    start = time.perf_counter()
    _, history = train(args.epochs, args.batch_size, args.lr, args.seed, not args.no_progress)
    seconds = time.perf_counter() - start
    plot(history, args.plot)
    print(
        f"test accuracy {100 * history['test_accuracy'][-1]:.1f}% after {args.epochs} "
        f"epochs, {seconds:.1f} s on {fastconv.get_num_threads()} thread(s); "
        f"curve saved to {args.plot}"
    )
    return history


if __name__ == "__main__":
    main()
