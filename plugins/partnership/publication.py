"""Publication is enforced from the registry: what reads a dataset's aggregates must be allowed to.

Each registry entry says what may be done with aggregates derived from the dataset (``publication.aggregates``:
``none``, ``partnership`` or ``public``) and the agreement clause that allows it. This module walks the dbt
manifest from every publish model and every exposure down to the sources they are built from, and reports:

- a publish model built from a ``none`` source (no aggregate of it may leave the analysts);
- a publish model built from a source the registry does not describe (no permission is recorded);
- an exposure without ``meta.audience_level`` (``public`` or ``partnership``);
- a ``public`` exposure built from a source that is not ``public``, or reading a model outside ``publish``;
- a ``partnership`` exposure reading a publish model built from a ``none`` source.

Exposures of the partnership that read marts directly are the analysts' internal dashboards and are allowed
unless marked public. ``partnership registry check`` prints the violations and fails when there are any.
"""

from __future__ import annotations

import json
from pathlib import Path

from partnership import settings
from partnership.registry import Dataset, load_registry

AUDIENCE_LEVELS = ("partnership", "public")
# Sources that are not agency data: the warehouse's own audit of loads and checks (counts and statuses), and the
# record linkage's view of each loaded row's person id (no value; the rows are the registered sources').
OWN_SOURCES = {"audit", "linkage"}


def manifest_is_current() -> bool:
    """Whether dbt/target/manifest.json exists and is newer than every file of the dbt project it parses."""
    path = settings.dbt_manifest()
    if not path.exists():
        return False
    project = settings.DBT_PROJECT_DIR
    inputs = [
        project / "dbt_project.yml",
        *(f for d in ("models", "macros", "seeds") for f in (project / d).rglob("*")),
    ]
    newest = max((f.stat().st_mtime for f in inputs if f.is_file()), default=0)
    return path.stat().st_mtime >= newest


def load_manifest(path: Path | None = None) -> dict:
    return json.loads(Path(path or settings.dbt_manifest()).read_text())


def is_publish_model(node: dict) -> bool:
    fqn = node.get("fqn") or []
    in_publish = (len(fqn) > 1 and fqn[1] == "publish") or node.get("schema") == "publish"
    return node.get("resource_type") == "model" and in_publish


def _meta(node: dict) -> dict:
    return (node.get("config") or {}).get("meta") or node.get("meta") or {}


class _Lineage:
    """Upstream lookups over one manifest, memoised."""

    def __init__(self, manifest: dict):
        self.manifest = manifest
        self._upstream: dict[str, frozenset[str]] = {}

    def node(self, unique_id: str) -> dict | None:
        for kind in ("nodes", "sources", "exposures", "metrics", "semantic_models"):
            found = (self.manifest.get(kind) or {}).get(unique_id)
            if found is not None:
                return found
        return None

    def upstream(self, unique_id: str) -> frozenset[str]:
        """Every node and source that ``unique_id`` is built from, however far up."""
        if unique_id in self._upstream:
            return self._upstream[unique_id]
        seen: set[str] = set()
        stack = list(self._parents(unique_id))
        while stack:
            uid = stack.pop()
            if uid in seen:
                continue
            seen.add(uid)
            if uid in self._upstream:
                seen |= self._upstream[uid]
            else:
                stack.extend(self._parents(uid))
        self._upstream[unique_id] = frozenset(seen)
        return self._upstream[unique_id]

    def _parents(self, unique_id: str) -> list[str]:
        node = self.node(unique_id) or {}
        return list((node.get("depends_on") or {}).get("nodes") or [])

    def sources(self, unique_id: str) -> list[dict]:
        return sorted(
            (self.manifest["sources"][u] for u in self.upstream(unique_id) if u in self.manifest.get("sources", {})),
            key=lambda s: s["unique_id"],
        )


def _dataset_of(source: dict, datasets: dict[str, Dataset]) -> Dataset | None:
    """The registry dataset a raw source reads (its table is ``raw.<agency>__<dataset>``)."""
    return datasets.get(source.get("identifier") or source["name"]) if source.get("schema") == "raw" else None


def _describe(ds: Dataset) -> str:
    return f"{ds.name} (registry publication: {ds.publication.aggregates}, {ds.sharing_agreement})"


def violations(manifest: dict, datasets: tuple[Dataset, ...] | None = None) -> list[str]:
    """Every way the manifest's publish models and exposures use data beyond what its registry entry allows."""
    registry = {ds.name: ds for ds in (load_registry() if datasets is None else datasets)}
    lineage = _Lineage(manifest)
    found: list[str] = []

    def unregistered(source: dict) -> bool:
        return source["source_name"] not in OWN_SOURCES and _dataset_of(source, registry) is None

    def none_sources(unique_id: str) -> list[Dataset]:
        out = [_dataset_of(s, registry) for s in lineage.sources(unique_id)]
        return [ds for ds in out if ds is not None and ds.publication.aggregates == "none"]

    publish_models = {u: n for u, n in manifest.get("nodes", {}).items() if is_publish_model(n)}
    for uid, node in sorted(publish_models.items()):
        for ds in none_sources(uid):
            found.append(
                f"publish model {node['name']} is built from {_describe(ds)}: no aggregate of it may leave the "
                "analysts. Record a partnership or public permission with its agreement clause in the registry, "
                "or take the model out of publish."
            )
        for source in lineage.sources(uid):
            if unregistered(source):
                found.append(
                    f"publish model {node['name']} is built from source {source['source_name']}.{source['name']}, "
                    "which has no registry entry, so no permission to publish it is recorded."
                )

    for uid, exposure in sorted(manifest.get("exposures", {}).items()):
        name = exposure["name"]
        audience = _meta(exposure).get("audience_level")
        if audience not in AUDIENCE_LEVELS:
            found.append(
                f"exposure {name} has meta.audience_level {audience!r}: it must say who reads it "
                f"({' or '.join(AUDIENCE_LEVELS)})."
            )
            continue
        if audience == "public":
            for dep in exposure.get("depends_on", {}).get("nodes", []):
                node = lineage.node(dep) or {}
                label = node.get("name", dep)
                if node.get("resource_type") == "model" and not is_publish_model(node):
                    found.append(f"public exposure {name} reads {label}, which is not in publish (suppressed) schema.")
                for source in [node] if dep.startswith("source.") else lineage.sources(dep):
                    ds = _dataset_of(source, registry)
                    if ds is None:
                        if unregistered(source):
                            found.append(
                                f"public exposure {name} reads {label}, built from source "
                                f"{source['source_name']}.{source['name']}, which has no registry entry."
                            )
                    elif not ds.publication.allows("public"):
                        found.append(
                            f"public exposure {name} reads {label}, built from {_describe(ds)}: it needs a public "
                            "permission with its agreement clause in the registry, or the exposure must drop "
                            f"{label}."
                        )
        else:
            upstream_publish = sorted(u for u in lineage.upstream(uid) if u in publish_models)
            for dep in upstream_publish:
                for ds in none_sources(dep):
                    found.append(
                        f"partnership exposure {name} reads publish model {publish_models[dep]['name']}, built "
                        f"from {_describe(ds)}: it needs at least a partnership permission with its agreement "
                        f"clause in the registry, or the exposure must drop {publish_models[dep]['name']}."
                    )
    return found
