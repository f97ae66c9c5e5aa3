"""MultimodalLLMOptimizer: the LLM loop plus a plot of the validation loss sent as an image."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from hpolab.llm._optimizer import LLMOptimizer
from hpolab.llm._prompts import HistoryEntry
from hpolab.llm.clients._base import LLMClient, make_client
from hpolab.space import SearchSpace
from hpolab.trial import TrialState

__all__ = ["MultimodalLLMOptimizer", "render_loss_plot"]


def render_loss_plot(
    losses: Sequence[float | None],
    curves: Sequence[Sequence[float] | None] = (),
    *,
    size_px: tuple[int, int] = (640, 480),
    dpi: int = 100,
    metric: str = "validation loss",
    maximize: bool = False,
) -> bytes:
    """A PNG of the loss per trial (points and best so far) and, if given, the learning curves.

    Args:
        losses: One value per trial (``None`` for failed or pending trials, drawn as gaps).
        curves: Per trial, the validation loss per epoch (``info["val_loss"]``), or ``None``.
        size_px: Width and height of the image in pixels.
        dpi: Dots per inch (the figure is ``size_px / dpi`` inches).
        metric: Axis label.
        maximize: Whether higher is better (for the best-so-far line).

    Returns:
        PNG bytes of exactly ``size_px``.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('the multimodal optimizer needs matplotlib: pip install "hpolab[plots]"') from exc
    width, height = int(size_px[0]), int(size_px[1])
    if width < 64 or height < 64:
        raise ValueError(f"size_px: {size_px!r} is too small; give at least (64, 64)")
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    has_curves = any(c for c in curves)
    ax = fig.add_subplot(1, 2, 1) if has_curves else fig.add_subplot(1, 1, 1)
    xs = [i + 1 for i, v in enumerate(losses) if v is not None and math.isfinite(v)]
    ys = [float(v) for v in losses if v is not None and math.isfinite(v)]
    ax.plot(xs, ys, "o", color="tab:blue", label=metric)
    best: list[float] = []
    for y in ys:
        best.append(y if not best else (max(best[-1], y) if maximize else min(best[-1], y)))
    if best:
        ax.step(xs, best, where="post", color="tab:orange", label="best so far")
    failed = [i + 1 for i, v in enumerate(losses) if v is None or not math.isfinite(v)]
    if failed and ys:
        ax.plot(failed, [max(ys)] * len(failed), "x", color="tab:red", label="failed")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} over trials")
    if xs:
        ax.legend(loc="best", fontsize="small")
    if has_curves:
        ax2 = fig.add_subplot(1, 2, 2)
        for i, curve in enumerate(curves):
            if curve:
                ax2.plot(range(1, len(curve) + 1), [float(v) for v in curve], label=f"trial {i + 1}")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel(metric)
        ax2.set_title("learning curves")
        if sum(1 for c in curves if c) <= 10:
            ax2.legend(loc="best", fontsize="x-small")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class MultimodalLLMOptimizer(LLMOptimizer):
    """The LLM optimizer for vision models: each prompt also carries a plot of the losses.

    The plot (matplotlib, Agg backend, PNG) shows the validation loss of every trial so far and
    the best so far, plus learning curves where trials report ``info["val_loss"]`` as a list;
    it is attached to the last user message in the OpenAI image format. ``image_only=True``
    leaves the losses out of the text (only the trial number and config are listed), so the
    model reads them from the plot alone. The first ask, with no history, sends no image.

    Needs a vision-capable client (``client.supports_images``): a text-only client fails at
    construction. Without a client, give ``base_url`` and ``model`` of a vision-capable
    OpenAI-compatible server.

    Args:
        space: The search space.
        client: A vision-capable client.
        image_only: Show losses only in the plot.
        plot_size_px: Width and height of the plot in pixels.
        **kwargs: Everything :class:`LLMOptimizer` takes (``mode``, ``chain_of_thought``, ...).
    """

    name: ClassVar[str] = "llm-multimodal"

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any] | Any,
        client: LLMClient | None = None,
        *,
        image_only: bool = False,
        plot_size_px: tuple[int, int] = (640, 480),
        **kwargs: Any,
    ) -> None:
        base_url = kwargs.get("base_url")
        if client is None and base_url is None:
            raise ValueError(
                "client: the multimodal optimizer needs a vision-capable model; pass client=OpenAIClient(..., "
                "supports_images=True) or base_url= and model= of a vision-capable OpenAI-compatible server "
                "(the default local SmolLM2 reads no images)"
            )
        if client is None:
            key = {} if kwargs.get("api_key") is None else {"api_key": kwargs["api_key"]}
            client = make_client(base_url, model=str(kwargs.get("model") or ""), supports_images=True, **key)
        kwargs.pop("base_url", None)
        kwargs.pop("model", None)
        kwargs.pop("api_key", None)
        super().__init__(space, client, **kwargs)
        self._check_client(client)
        if image_only and self.mode == "chat":
            raise ValueError("image_only: chat mode shows every loss in its transition messages; use mode='compressed'")
        self.image_only = bool(image_only)
        self.plot_size_px = (int(plot_size_px[0]), int(plot_size_px[1]))
        if min(self.plot_size_px) < 64:
            raise ValueError(f"plot_size_px: {plot_size_px!r} is too small; give at least (64, 64)")

    def _check_client(self, client: LLMClient) -> None:
        if not getattr(client, "supports_images", False):
            raise ValueError(
                f"client: {getattr(client, 'name', type(client).__name__)} is text-only (supports_images is False); "
                "the multimodal optimizer needs a vision-capable model, e.g. "
                "OpenAIClient('gpt-4o', supports_images=True), or use LLMOptimizer"
            )

    def _meta_params(self) -> dict[str, Any]:
        return {**super()._meta_params(), "image_only": self.image_only, "plot_size_px": list(self.plot_size_px)}

    def _compressed_options(self) -> dict[str, Any]:
        has_history = bool(self._dialogue)
        return {"image_only": self.image_only and has_history, "image_note": has_history}

    def _images(self, history: Sequence[HistoryEntry]) -> list[bytes]:
        if not history:
            return []
        losses: list[float | None] = []
        curves: list[list[float] | None] = []
        shown = self._dialogue[-len(history) :]
        for item in shown:
            result = item.get("result")
            if result is not None and result.state is TrialState.COMPLETE and result.value is not None:
                losses.append(float(result.value))
            else:
                losses.append(None)
            curve = (result.info or {}).get("val_loss") if result is not None else None
            if isinstance(curve, (list, tuple)) and curve and all(isinstance(v, (int, float)) for v in curve):
                curves.append([float(v) for v in curve])
            else:
                curves.append(None)
        return [
            render_loss_plot(
                losses,
                curves,
                size_px=self.plot_size_px,
                metric="validation " + self._metric(),
                maximize=self.direction.value == "maximize",
            )
        ]
