"""Seq2Seq Playground: `python app.py` serves the Gradio UI (PORT / GRADIO_SERVER_PORT pick the port)."""
from __future__ import annotations

import logging
import os

import torch

from demo import models
from demo.app import build_demo, launch_kwargs


def main() -> None:
    # handler errors are logged with their traceback (demo/errors.py); the visitor sees one sentence
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(1)  # one intra-op thread per request: concurrent requests share the cores, not fight
    port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    on_spaces = bool(os.environ.get("SPACE_ID"))
    host = os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_spaces else "127.0.0.1")
    demo = build_demo()
    models.preload_shipped()  # shipped models load in the background; the server answers meanwhile
    demo.launch(server_name=host, server_port=port, **launch_kwargs())


if __name__ == "__main__":
    main()
