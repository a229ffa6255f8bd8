"""Reference vectors of sentence-transformers' encode_query and encode_document
(with and without truncate_dim) on the prompts-st6 fixture, for the adapters'
query/document prompt tests (LangChain4j, Spring AI) and the Java API's
encodeQuery/encodeDocuments.

Deterministic: the fixture's saved weights, fixed texts, CPU, no sampling.
Run with the sentence-transformers 6.2 venv:
    /work/venv-st/bin/python tests/reference/make_query_document_reference.py
"""
import json
import os

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
MODEL = os.path.join(FIXTURES, "models", "prompts-st6")
OUT = os.path.join(FIXTURES, "prompts-st6.query-document.json")

QUERIES = ["how do I reset my password", "cheapest flight to Lisbon"]
DOCUMENTS = [
    "To reset your password, open Settings and choose Security.",
    "Flights to Lisbon start at 39 euros in winter.",
    "The quick brown fox jumps over the lazy dog.",
]
TRUNCATE_DIM = 16


def rows(t):
    return [[float(x) for x in row] for row in t]


def main():
    torch.manual_seed(0)
    model = SentenceTransformer(MODEL, device="cpu")
    out = {
        "model": "prompts-st6",
        "generated_by": "tests/reference/make_query_document_reference.py, sentence-transformers "
        + sentence_transformers.__version__,
        "truncate_dim": TRUNCATE_DIM,
        "queries": QUERIES,
        "documents": DOCUMENTS,
        "query_vectors": rows(model.encode_query(QUERIES, convert_to_numpy=True)),
        "document_vectors": rows(model.encode_document(DOCUMENTS, convert_to_numpy=True)),
        "query_vectors_truncated": rows(model.encode_query(QUERIES, truncate_dim=TRUNCATE_DIM, convert_to_numpy=True)),
        "document_vectors_truncated": rows(
            model.encode_document(DOCUMENTS, truncate_dim=TRUNCATE_DIM, convert_to_numpy=True)
        ),
        "default_vectors": rows(model.encode(DOCUMENTS, convert_to_numpy=True)),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
