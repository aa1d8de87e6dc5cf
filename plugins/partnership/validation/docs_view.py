"""The Data Docs page view, with GX's Jinja templates compiled once per process.

GX's view makes a new Jinja environment for every page it builds, and a new environment compiles every template
it uses again: about 17 templates, 0.17 s a file, half of the time the gate spends on Data Docs. Jinja's bytecode
cache is its own way to skip that; the cache here is the process's memory, and Jinja checks each template's
source against the cached code before using it. Where one process validates many files (`partnership run` under
dag.test(), the benchmarks, the tests) they are compiled once for all of them; under a real scheduler each
validate task is a process of its own, and shares them only between its file's two pages.
"""

from __future__ import annotations

from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _CompiledTemplates(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # refused (recompiled) if the template's source changed

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


# Jinja's cache key is the template's name and source, not the environment's settings (autoescape, filters):
# share it only between environments set up alike, as every CompiledOncePageView's is.
COMPILED_TEMPLATES = _CompiledTemplates()


class CompiledOncePageView(DefaultJinjaPageView):
    """GX's page view, sharing the process's compiled templates (named in the site builder's config)."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = COMPILED_TEMPLATES
