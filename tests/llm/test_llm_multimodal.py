"""MultimodalLLMOptimizer against a small OpenAI-protocol test server written for this test.

The server (tests/llm/_fake_server.py, http.server on 127.0.0.1) stands in for a vision model: for
every request it finds the ``image_url`` parts of the last user message, decodes the base64 data
URL and checks that it is a valid PNG (signature, IHDR chunk, CRCs, decodable by Pillow) of the
expected size; it answers with scripted configs.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import numpy as np
import pytest
from _fake_server import FakeOpenAIServer

import hpolab
from hpolab.llm import LLMOptimizer, MultimodalLLMOptimizer, OpenAIClient, render_loss_plot
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.testing._scripted import ScriptedClient

SPACE = SearchSpace({"C": (0.0009765625, 1024.0, "log"), "gamma": (0.0009765625, 1024.0, "log")})
SIZE = (640, 480)


def png_size(data: bytes) -> tuple[int, int]:
    """Check a PNG chunk by chunk (signature, CRCs, IHDR first, IEND last) and return its size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, chunks, size = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == size
    return size  # type: ignore[return-value]


class VisionServer(FakeOpenAIServer):
    def __init__(self) -> None:
        self.images: list[tuple[int, int]] = []
        self.image_counts: list[int] = []
        self.texts: list[str] = []
        super().__init__(self.answer)

    def answer(self, body: dict) -> str:
        content = body["messages"][-1]["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        urls = [p["image_url"]["url"] for p in parts if p.get("type") == "image_url"]
        self.texts.append(" ".join(p["text"] for p in parts if p.get("type") == "text"))
        self.image_counts.append(len(urls))
        for url in urls:
            prefix = "data:image/png;base64,"
            assert url.startswith(prefix)
            self.images.append(png_size(base64.b64decode(url[len(prefix) :])))
        rng = np.random.default_rng(len(self.texts))
        return json.dumps(SPACE.sample(rng=rng))


@pytest.fixture
def server():
    with VisionServer() as srv:
        yield srv


def test_plot_is_png_of_requested_size():
    data = render_loss_plot(
        [0.5, None, 0.25, 0.3], [[0.9, 0.6, 0.5], None, [0.8, 0.3, 0.25], [0.7, 0.4, 0.3]], size_px=(800, 400)
    )
    assert png_size(data) == (800, 400)
    assert png_size(render_loss_plot([])) == SIZE


def test_multimodal_study_sends_valid_plots(server):
    client = OpenAIClient("vision", base_url=server.base_url, api_key="x", supports_images=True)

    def fn(config):
        loss = abs(np.log(config["C"])) / 10 + abs(np.log(config["gamma"])) / 20
        return {"value": loss, "info": {"val_loss": [loss * 3, loss * 2, loss]}}

    objective = FunctionObjective(fn, SPACE, description="You are helping tune hyperparameters for a SVM.")
    optimizer = MultimodalLLMOptimizer(SPACE, client, seed=0)
    study = hpolab.create_study(objective, optimizer)
    study.optimize(n_trials=5)
    assert len(study.trials) == 5
    assert server.image_counts == [0, 1, 1, 1, 1]  # no plot before the first result
    assert server.images == [SIZE] * 4
    assert "The graph of validation loss over previous trials is attached" in server.texts[-1]
    assert "loss = " in server.texts[-1]
    exchange = study.trials[-1].trial.metadata["llm"]["exchanges"][0]
    assert len(exchange["images"]) == 1 and exchange["images"][0] > 1000  # sizes, not bytes, in the transcript


def test_image_only_leaves_losses_out_of_the_text(server):
    client = OpenAIClient("vision", base_url=server.base_url, api_key="x", supports_images=True)
    optimizer = MultimodalLLMOptimizer(SPACE, client, seed=0, image_only=True, plot_size_px=(320, 240))
    for value in (0.4, 0.3, 0.2):
        optimizer.tell(optimizer.ask(), value)
    text = server.texts[-1]
    assert "loss = " not in text and "Trial 1: {" in text and "Trial 2: {" in text
    assert server.images == [(320, 240)] * 2


def test_text_only_client_fails_at_construction():
    with pytest.raises(ValueError, match="text-only"):
        MultimodalLLMOptimizer(SPACE, ScriptedClient(["{}"]))
    with pytest.raises(ValueError, match="vision-capable"):
        MultimodalLLMOptimizer(SPACE)
    with pytest.raises(ValueError, match="image_only"):
        MultimodalLLMOptimizer(SPACE, ScriptedClient(["{}"], supports_images=True), image_only=True, mode="chat")


def test_text_client_refuses_images():
    client = ScriptedClient(["{}"])
    with pytest.raises(Exception, match="supports_images"):
        client.complete([{"role": "user", "content": "x"}], images=[b"png"])
    assert LLMOptimizer(SPACE, client).client is client
