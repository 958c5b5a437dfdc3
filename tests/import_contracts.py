"""An import-linter contract type for the test suite (import-linter's own wildcards replace only
whole module names, so they cannot say "every module named test_*").

A test module (``test_*``) and a ``conftest`` are imported by nobody: builders live in a
``factories`` module, fixtures in a ``conftest``, and shared support in a module named for what it
is. Otherwise running one test file runs another's import side effects, and a helper's users are
invisible from where it is defined.
"""

from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck


def _unimportable(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name.startswith("test_") or name == "conftest"


class UnimportedTestModulesContract(Contract):
    """No module imports a test module or a conftest (no options)."""

    type_name = "unimported_test_modules"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        broken = sorted(
            (importer, module)
            for module in graph.modules
            if _unimportable(module)
            for importer in graph.find_modules_that_directly_import(module)
        )
        return ContractCheck(kept=not broken, warnings=[], metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, module in check.metadata["broken"]:
            output.print_error(f"{importer} imports {module}: move what it needs to a factory")
            output.new_line()
