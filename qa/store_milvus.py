"""Milvus vector store: the ``VectorStore`` seam over pymilvus' ``MilvusClient``.

``--store milvus:PATH.db`` runs milvus-lite in this process; ``--store milvus://HOST:19530``
talks to a Milvus standalone or cluster with the same code (``$QA_MILVUS_TOKEN`` and
``$QA_MILVUS_DB`` give the token, "user:password", and the database).

One collection per index, reached through an alias (``qa_<hash of the index folder>``, or
``$QA_MILVUS_COLLECTION``). Each row is a chunk: its id (primary key), its document (the
partition key, so a search limited to documents reads only their partitions) and its vector.
An incremental build deletes and re-adds the changed documents in place; a full build fills a
new collection and then points the alias at it, so a reader never sees a half-built index, as
the FAISS generation swap does. The index type and its parameters go into the manifest.

The C++ milvus-lite (2.x) has no aliases and refuses every filter on a collection with a
partition key, so there the document is a plain field and the manifest names the collection
itself (milvus-lite serves one process, and the manifest is replaced atomically: readers still
never see a half-built index); the collection a full build replaced is dropped once the new
manifest is written (``drop``, called by ``store.retire``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa import vectors as vectors_mod
from qa.errors import IndexLoadError, QAError

INSERT_BATCH = 2000
# Rows hold a key of their document's name, never the name: Milvus filters are text, and milvus-lite
# 2.5.1 neither decodes JSON's \u escapes (every non-ASCII name: "café.txt" matched nothing, so a
# changed document's old rows stayed) nor takes filter templates; a hex key needs no escaping at all.
DOC_KEY = "sha256-32"
MAX_ID, MAX_DOC = 2048, 1024  # VARCHAR lengths of a chunk id and a document name
# Searches read at "Bounded" consistency: writes are seen within Milvus' staleness bound (5 s by
# default). "Strong" makes each search wait for the server's next time tick (p50 396 ms on a Milvus
# 2.3.5 server at 100k vectors, against 26 ms, qa bench --store), so it is used only for the
# searches of a process in the seconds after it changed the collection (a build, an upload in the
# chat): it sees its own writes. ("Session" would not: pymilvus tracks writes by collection name,
# and searches go through the alias.)
SEARCH_CONSISTENCY = "Bounded"
FRESH_SECONDS = 10.0
_written: dict[str, float] = {}  # alias → when this process last changed its collection
_clients: dict[str, Any] = {}


def index_params(n: int) -> tuple[str, dict[str, int], dict[str, int]]:
    """Return (index type, build parameters, search parameters) for ``n`` vectors: exact below
    FAISS' crossover (``vectors.APPROX_FROM``), IVF_FLAT with FAISS' cells and probes above."""
    if n < vectors_mod.APPROX_FROM:
        return "FLAT", {}, {}
    return "IVF_FLAT", {"nlist": vectors_mod.ivf_lists(n)}, {"nprobe": vectors_mod.IVF_NPROBE}


def features(uri: str) -> tuple[bool, bool]:
    """Return (aliases, partition key) for ``uri``: a server and the pure-Python milvus-lite (3.x)
    have both; the C++ milvus-lite (2.x) neither (its alias calls are unimplemented, and any filter
    on a collection with a partition key fails: "Invalid expr", milvus-lite 2.5.1)."""
    if not uri.endswith(".db"):
        return True, True
    try:
        lite_2 = importlib.metadata.version("milvus-lite").startswith("2.")
    except importlib.metadata.PackageNotFoundError:
        lite_2 = False
    return not lite_2, not lite_2


def connect(uri: str) -> Any:
    """Return a ``MilvusClient`` for ``uri`` (one per process and uri), or raise QAError in one line."""
    if uri in _clients:
        return _clients[uri]
    try:
        from pymilvus import MilvusClient

        # pymilvus logs every refused call with a traceback; qa says what went wrong in one line
        for name in ("pymilvus", "milvus_lite"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    except ImportError:
        raise QAError("the Milvus store needs pymilvus and milvus-lite: pip install 'qa[milvus]'") from None
    local = uri.endswith(".db")
    if local:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with warnings.catch_warnings():  # milvus-lite 2.5.1 warns on import that pkg_resources is deprecated
                warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
                client = MilvusClient(uri=uri, token=os.environ.get("QA_MILVUS_TOKEN", ""),
                                      db_name=os.environ.get("QA_MILVUS_DB", ""), timeout=30)
            break
        except Exception as exc:  # pymilvus raises its own and grpc's errors
            # the C++ milvus-lite's server process is started half a second before the first call,
            # which fails on a busy machine when its socket is not there yet (milvus-lite 2.5.1)
            if local and "Fail connecting" in short(exc) and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            what = ("cannot open the milvus-lite file; is another process (a chat, a build) using it? milvus-lite "
                    "serves one process at a time, a Milvus server many" if local else "cannot reach the Milvus server")
            raise QAError(f"{uri}: {what} ({short(exc)})") from None
    _clients[uri] = client
    return client


def short(exc: BaseException) -> str:
    """Return an exception's message on one line, at most 200 characters."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return re.sub(r"\s+", " ", text)[:200]


def default_alias(index_dir: Path) -> str:
    """Return the alias readers search: ``$QA_MILVUS_COLLECTION``, else one derived from the index folder."""
    name = os.environ.get("QA_MILVUS_COLLECTION")
    if name:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", name):
            raise QAError(f"QA_MILVUS_COLLECTION: '{name}' is not a Milvus name (letters, digits, _)")
        return name
    return "qa_" + hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()[:12]


def for_build(uri: str, index_dir: Path, previous: dict[str, Any] | None, dim: int,
              n: int) -> tuple[MilvusStore, bool]:
    """Return (the store a build writes into, whether it holds the last build's vectors). The last
    build's collection is reused when ``previous`` (its manifest record) names it at the same
    place and it still exists; otherwise a new collection is made (the alias moves at commit)."""
    client, last = connect(uri), previous or {}
    same_place = last.get("kind") == "milvus" and last.get("uri") == uri
    if same_place and last.get("dim") == dim and last.get("doc_key") == DOC_KEY \
            and client.has_collection(last.get("collection", "")):
        return MilvusStore(client, dict(last)), True
    alias = last["alias"] if same_place else default_alias(index_dir)
    aliased, partitioned = features(uri)
    index_type, params, search_params = index_params(n)
    collection = f"{alias}_{time.strftime('%Y%m%d%H%M%S')}_{time.time_ns() % 10**9}"
    record = {"kind": "milvus", "uri": uri, "alias": alias, "aliased": aliased, "collection": collection,
              "dim": int(dim), "metric": "IP", "partition_key": "doc" if partitioned else None,
              "index_type": index_type, "params": params, "search_params": search_params,
              "consistency": SEARCH_CONSISTENCY, "doc_key": DOC_KEY}
    # the collection readers search now: the alias' target, or the one the last manifest names
    current = _alias_target(client, alias) if aliased else last.get("collection") if same_place else None
    for name in client.list_collections():  # leftovers of killed full builds of this index
        if name.startswith(alias + "_") and name != current:
            client.drop_collection(name)
    _create(client, record)
    return MilvusStore(client, record, new=True), False


def _create(client: Any, record: dict[str, Any]) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, max_length=MAX_ID, is_primary=True)
    schema.add_field("doc", DataType.VARCHAR, max_length=MAX_DOC, is_partition_key=bool(record["partition_key"]))
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=record["dim"])
    client.create_collection(record["collection"], schema=schema, consistency_level="Strong")


def doc_key(record: dict[str, Any], doc: str) -> str:
    """Return what a collection's rows hold for a document: the hex key of its name (collections made
    before keys: the name itself)."""
    if record.get("doc_key") != DOC_KEY:
        return doc
    return hashlib.sha256(doc.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def searched(record: dict[str, Any]) -> str:
    """Return the name searches use: the alias, or the collection itself where there are no aliases."""
    return str(record["alias"] if record.get("aliased", True) else record["collection"])


def drop(record: dict[str, Any]) -> str:
    """Drop the collection a manifest record names, and its alias when the alias points at it;
    return what was dropped, in words."""
    client = connect(record["uri"])
    if record.get("aliased", True) and _alias_target(client, record["alias"]) == record["collection"]:
        client.drop_alias(record["alias"])
    if not client.has_collection(record["collection"]):
        return "nothing (already gone)"
    client.drop_collection(record["collection"])
    return f"the Milvus collection {record['collection']}"


def _alias_target(client: Any, alias: str) -> str | None:
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return str(client.describe_alias(alias)["collection_name"])


class MilvusStore:
    """A Milvus collection holding an index's chunk vectors (see the module docstring)."""

    def __init__(self, client: Any, record: dict[str, Any], new: bool = False) -> None:
        self.client, self.record, self.new = client, record, new
        self.name = searched(record)
        self._added: dict[str, list[str]] = {}  # a new collection's rows by document, until it is loaded
        self._rows: list[dict[str, Any]] = []  # added rows not inserted yet (documents are small, inserts are not)

    @classmethod
    def open(cls, record: dict[str, Any]) -> MilvusStore:
        """Return the store a manifest record names, or raise IndexLoadError saying what to do."""
        client, name = connect(record["uri"]), searched(record)
        try:
            found = client.has_collection(name)
        except Exception as exc:
            raise IndexLoadError(f"{record['uri']}: Milvus did not answer ({short(exc)})") from None
        if not found:
            raise IndexLoadError(f"{record['uri']}: the index's collection '{name}' is missing; "
                                 f"rebuild with: qa build --store milvus:…")
        client.load_collection(name)
        return cls(client, record)

    def add(self, doc: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Insert one document's chunk vectors (several documents per insert of ``INSERT_BATCH`` rows,
        under Milvus' message size: an insert per 50-chunk document took milvus-lite 2.5.1 twice as long)."""
        key = doc_key(self.record, doc)
        if len(key) > MAX_DOC:
            raise QAError(f"{doc[:60]}…: document name longer than {MAX_DOC} characters; shorten it")
        vectors = np.asarray(vectors, dtype=np.float32)
        self._rows.extend({"id": i, "doc": key, "vector": v} for i, v in zip(ids, vectors, strict=True))
        if len(self._rows) >= INSERT_BATCH:
            self._insert()
        if self.new:
            self._added.setdefault(doc, []).extend(ids)

    def _insert(self) -> None:
        for start in range(0, len(self._rows), INSERT_BATCH):
            self.client.insert(self.record["collection"], self._rows[start:start + INSERT_BATCH])
        self._rows = []

    def delete(self, doc: str) -> None:
        """Delete one document's rows (by id in a collection not loaded yet: a server deletes by
        expression only in a loaded one)."""
        self._insert()  # in the order asked: a document deleted after it was added goes
        if self.new:
            ids = self._added.pop(doc, [])
            if ids:
                self.client.delete(self.record["collection"], ids=ids)
            return
        self.client.delete(self.record["collection"], filter=f"doc == {json.dumps(doc_key(self.record, doc))}")

    def commit(self) -> dict[str, Any]:
        """Flush; for a new collection build its index, load it and point the alias at it (dropping
        the collection it pointed at); return the manifest record."""
        name, alias = self.record["collection"], self.record["alias"]
        self._insert()
        self.client.flush(name)
        _written[alias] = time.monotonic()
        if self.new:
            params = self.client.prepare_index_params()
            params.add_index(field_name="vector", index_type=self.record["index_type"], metric_type="IP",
                             params=self.record["params"])
            self.client.create_index(name, params)
            self.client.load_collection(name)
            old = _alias_target(self.client, alias) if self.record.get("aliased", True) else name
            if old is None:
                self.client.create_alias(name, alias)
            elif old != name:
                self.client.alter_alias(name, alias)
                self.client.drop_collection(old)
            self.new, self._added = False, {}
        _written[alias] = time.monotonic()
        return dict(self.record)

    def search(self, vector: np.ndarray, k: int,
               docs: Collection[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Return (chunk ids, cosines) of the ``k`` nearest chunks, of ``docs`` only when given (a
        filter on the partition key, applied by Milvus inside the search)."""
        if docs is not None and not docs:
            return [], np.zeros(0, dtype=np.float32)
        params = dict(self.record.get("search_params", {}))
        if docs is not None and "nlist" in self.record.get("params", {}):
            # IVF under a filter: a document's few rows may lie in none of the probed cells (a Milvus
            # 2.3.5 server at 1M returned nothing for one); the partition key keeps every cell cheap
            params["nprobe"] = self.record["params"]["nlist"]
        found = self.client.search(
            self.name, data=[np.asarray(vector, dtype=np.float32)], anns_field="vector", limit=k,
            filter="" if docs is None else f"doc in {json.dumps(sorted(doc_key(self.record, d) for d in docs))}",
            output_fields=["id"],
            search_params={"metric_type": "IP", "params": params},
            consistency_level=self._consistency())
        hits = found[0] if found else []
        return [str(h["id"]) for h in hits], np.array([h["distance"] for h in hits], dtype=np.float32)

    def _consistency(self) -> str:
        fresh = time.monotonic() - _written.get(self.record["alias"], -FRESH_SECONDS) < FRESH_SECONDS
        return "Strong" if fresh else SEARCH_CONSISTENCY

    def count(self) -> int:
        """Return how many vectors the collection holds."""
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def describe(self) -> dict[str, Any]:
        """Return the manifest record: where, which collection and alias, index type and parameters."""
        return dict(self.record)
