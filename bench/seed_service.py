#!/usr/bin/env python3
"""The seed's embedding service, reproduced for bench/run.sh: what a Java
pipeline calls over HTTP when it has no in-process encoder.

    python bench/seed_service.py --model DIR --port 8765 --threads 2

FastAPI on uvicorn (one worker process), sentence-transformers on CPU with
torch.set_num_threads(threads). Two endpoints, both taking {"text": "..."}
and answering {"embedding": [floats]}:

- POST /embed        a plain `def` endpoint: FastAPI runs it in its thread pool.
- POST /embed_async  an `async def` endpoint awaiting
                     asgiref.sync.sync_to_async(model.encode)(text), as the
                     seed did (thread_sensitive: every call goes to one
                     worker thread). Without asgiref, a one-thread executor
                     does the same; GET /health says which ran.

GET /health answers once the model is loaded. Neither variant batches
requests: one request, one forward pass.
"""
import argparse
import asyncio
import concurrent.futures
import os


def build_app(model_dir, threads):
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    from fastapi import FastAPI
    from pydantic import BaseModel
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir, device="cpu")
    model.encode("warm-up")

    try:
        from asgiref.sync import sync_to_async
        encode_async = sync_to_async(model.encode)  # thread_sensitive=True by default
        async_via = "asgiref.sync_to_async"
    except ImportError:
        one_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1)

        async def encode_async(text):
            return await asyncio.get_running_loop().run_in_executor(one_thread, model.encode, text)
        async_via = "one-thread executor (asgiref missing)"

    class EmbedRequest(BaseModel):
        text: str

    app = FastAPI()

    @app.get("/health")
    def health():
        return {"ok": True, "torch_threads": torch.get_num_threads(), "async_via": async_via}

    @app.post("/embed")
    def embed(req: EmbedRequest):
        return {"embedding": model.encode(req.text).tolist()}

    @app.post("/embed_async")
    async def embed_async(req: EmbedRequest):
        vector = await encode_async(req.text)
        return {"embedding": vector.tolist()}

    return app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import uvicorn
    app = build_app(os.path.abspath(args.model), args.threads)
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
