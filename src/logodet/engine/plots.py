"""Learning-curve plot of a training run (matplotlib, Agg backend, atomic write)."""

from __future__ import annotations

import io
from pathlib import Path

from logodet.io import atomic_write_bytes

__all__ = ["plot_learning_curve"]


def plot_learning_curve(history: list[dict], path: str | Path) -> None:
    """Plot training losses and validation AP / AP50 per epoch to a PNG.

    Example:
        >>> plot_learning_curve([{"epoch": 1, "train_classification": 1.0}], "/tmp/curve.png")
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), dpi=100)
    ax_loss, ax_ap = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    skip = ("train_images_per_s", "train_seconds")
    for key in sorted(k for k in (history[0] if history else {}) if k.startswith("train_") and k not in skip):
        ax_loss.plot(epochs, [h[key] for h in history], marker="o", label=key.removeprefix("train_"))
    ax_loss.set(title="training loss", xlabel="epoch")
    ax_loss.legend(fontsize=8)
    for key in ("AP", "AP50", "AP75"):
        if history and key in history[0]:
            ax_ap.plot(epochs, [h[key] for h in history], marker="o", label=key)
    ax_ap.set(title="validation", xlabel="epoch", ylim=(0, 1))
    if history and "AP" in history[0]:
        ax_ap.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
