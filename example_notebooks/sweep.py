"""A small sweep tracked with nbtrack: logistic regression trained with plain numpy.

Run it, then look at the runs::

    python example_notebooks/sweep.py
    nbtrack ls
"""

from __future__ import annotations

import numpy as np

import nbtrack


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 8))
    w = rng.normal(size=8)
    y = (x @ w + rng.normal(scale=0.5, size=2000) > 0).astype(float)
    return x, y


def train(x: np.ndarray, y: np.ndarray, lr: float, epochs: int, run: nbtrack.Run) -> float:
    w = np.zeros(x.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= lr * x.T @ (p - y) / len(y)
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        run.log(loss=loss, acc=np.mean((p > 0.5) == y))
    return float(np.mean(((x @ w) > 0) == y))


def main() -> None:
    x, y = make_data()
    nbtrack.set_experiment("logistic-sweep")
    for lr in (0.01, 0.1, 1.0):
        for epochs in (20, 50):
            with nbtrack.run(f"lr={lr} epochs={epochs}", params={"lr": lr, "epochs": epochs},
                             tags={"model": "logistic"}) as run:  # fmt: skip
                run.log_metric("final_acc", train(x, y, lr, epochs, run))
    best = nbtrack.search(experiment="logistic-sweep", order_by=["metrics.final_acc DESC"])
    print(best[["name", "status", "params.lr", "params.epochs", "metrics.final_acc"]].head())


if __name__ == "__main__":
    main()
