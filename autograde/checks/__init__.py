"""The registry: the check modules, listed once and in rubric order, and the plugins' checks after them.

Each check declares itself with `@check` in its module (id, rubric row, needs). The rubric's order is
MODULES' order, then the plugins' (by entry point name), and within a module the order of declaration:
importing a module earlier (one check module importing another) changes nothing.

Plugins: a package installed beside the grader may register checks through the entry point group
`autograde.checks`; each entry point names a module that declares its checks with the same `@check`.
A plugin that fails to import is the grader's `error` for its checks (naming it), never the student's.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autograde.checks.base import REGISTRY, CheckSpec, Context, Outcome, errored
from autograde.results import CheckResult
from autograde.rubric import ENV_VAR, Rubric, RubricItem, parse_rubric, read_rubric

MODULES: tuple[str, ...] = (
    "autograde.checks.dockerfile",
    "autograde.checks.compose",
    "autograde.checks.runtime",
    "autograde.checks.images",
)
"""The built-in check modules, in rubric order. A new module of checks is added here, once."""

PLUGIN_GROUP = "autograde.checks"
NO_PLUGINS_VAR = "AUTOGRADE_NO_PLUGINS"  # set (non-empty): load no plugin, e.g. to grade with the built-ins only


@dataclass(frozen=True)
class Plugin:
    name: str  # the entry point's name
    module: str  # the module it names
    distribution: str  # "package version" of the package that declares it, "" if unknown
    checks: tuple[str, ...]  # ids it declared
    error: str | None = None  # why it failed to load

    @property
    def label(self) -> str:
        return f"{self.name} ({self.distribution or self.module})"


_plugins: tuple[Plugin, ...] | None = None


def plugins() -> tuple[Plugin, ...]:
    """The plugins, loaded once (by entry point name); one that fails to load is kept with its error."""
    global _plugins
    if _plugins is not None:
        return _plugins
    for module in MODULES:
        importlib.import_module(module)
    found: list[Plugin] = []
    if not os.environ.get(NO_PLUGINS_VAR):
        from importlib.metadata import entry_points

        for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ""
            module = ep.value.partition(":")[0].strip()
            before = set(REGISTRY)
            try:
                importlib.import_module(module)
                error = None
            except (Exception, SystemExit) as e:  # the instructor's code: anything may go wrong
                error = f"{type(e).__name__}: {e}"
            added = tuple(i for i in REGISTRY if i not in before)
            if error is not None:
                for i in added:  # half-registered: none of its checks is trusted
                    del REGISTRY[i]
                added = ()
            found.append(Plugin(ep.name, module, dist, added, error))
    _plugins = tuple(found)
    return _plugins


def _spec_order() -> list[CheckSpec]:
    loaded = plugins()
    order = list(MODULES)
    owner = {i: p for p in loaded for i in p.checks}
    specs = list(REGISTRY.values())

    def key(spec: CheckSpec) -> tuple[int, int, int]:
        plugin = owner.get(spec.item.id)
        if plugin is not None:
            return (1, loaded.index(plugin), specs.index(spec))
        if spec.module not in order:
            raise RuntimeError(f"{spec.module} declares checks but is not listed in autograde.checks.MODULES")
        return (0, order.index(spec.module), specs.index(spec))

    return sorted(specs, key=key)


def default_items() -> tuple[RubricItem, ...]:
    """The default rubric, as the checks declare it; a plugin that failed to load stands as one
    0-point row `plugin.<name>`, graded `error`, so its failure is seen."""
    broken = tuple(
        RubricItem(f"plugin.{p.name}", f"plugin {p.label}", 0, "-", "static", "the plugin loads")
        for p in plugins()
        if p.error
    )
    return tuple(s.item for s in _spec_order()) + broken


def default_rubric() -> Rubric:
    return Rubric(items=default_items())


def _broken_plugins() -> str | None:
    broken = [p.label for p in plugins() if p.error]
    return ", ".join(broken) if broken else None


def load_rubric(path: str | Path | None = None, *, text: str | None = None, source: str = "") -> Rubric:
    """The default rubric, or the default changed by an instructor's YAML (a file, or text)."""
    if path is not None:
        text, source = read_rubric(path)
    if text is None:
        return default_rubric()
    return parse_rubric(text, source or "rubric", default_items(), orphans_of=_broken_plugins())


def rubric_in_effect(path: str | Path | None, environ: Mapping[str, str]) -> Rubric:
    """`--rubric FILE` if given, else the YAML text of $AUTOGRADE_RUBRIC if set, else the default."""
    if path is not None:
        return load_rubric(path)
    text = environ.get(ENV_VAR, "")
    if text.strip():
        return load_rubric(text=text, source=f"env {ENV_VAR}")
    return default_rubric()


def plugin_of(check_id: str) -> Plugin | None:
    return next((p for p in plugins() if check_id in p.checks or check_id == f"plugin.{p.name}"), None)


def _missing(check_id: str) -> Outcome:
    """A rubric row with no check behind it: a plugin failed to load (or the rubric names a removed one)."""
    broken = [p for p in plugins() if p.error]
    if broken:
        why = "; ".join(f"the plugin {p.label} failed to load ({p.error})" for p in broken)
        return errored(
            f"not graded: {why}",
            "This is a fault of a plugin your instructor installed, not of your files; tell your instructor.",
        )
    return errored(f"not graded: no check {check_id} is installed", "Tell your instructor.")


def run_check(check_id: str, ctx: Context) -> CheckResult:
    start = time.perf_counter()
    plugins()
    spec = REGISTRY.get(check_id)
    try:
        if spec is None:
            outcome = _missing(check_id)
        else:
            given = [need(ctx) for need in spec.needs]
            missing = next((g for g in given if isinstance(g, Outcome)), None)
            outcome = missing if missing is not None else spec.fn(ctx, *given)
            if not isinstance(outcome, Outcome):
                raise TypeError(f"the check returned {type(outcome).__name__}, not an Outcome")
    except Exception as e:  # a grader bug must not cost the student points silently
        plugin = plugin_of(check_id)
        if plugin is not None:
            outcome = errored(
                f"the plugin {plugin.label} failed while checking this ({type(e).__name__}: {e})",
                "This is a fault of a plugin your instructor installed, not of your files; tell your instructor.",
            )
        else:
            outcome = errored(
                f"the grader failed while checking this ({type(e).__name__}: {e})",
                "This is a fault of the grader, not of your files; tell your instructor.",
            )
    facts = ctx.facts
    if facts is not None and (facts.interrupted or facts.engine_lost) and outcome.status not in ("pass", "error"):
        # cut short, not judged: a run that was interrupted or lost its engine says nothing about the files
        why = "grading was interrupted" if facts.interrupted else f"the Docker engine went away ({facts.engine_lost})"
        outcome = outcome._replace(
            status="error",
            message=f"not finished: {why} ({outcome.message})",
            hint="Grade again; a run cut short says nothing about your files.",
        )
    return result_of(check_id, ctx, outcome, time.perf_counter() - start)


def result_of(check_id: str, ctx: Context, outcome: Outcome, duration: float = 0.0) -> CheckResult:
    item = ctx.rubric.item(check_id)
    return CheckResult(
        id=check_id,
        name=item.name,
        status=outcome.status,
        score=item.points if outcome.status == "pass" else 0,
        max_score=item.points,
        message=outcome.message,
        hint=outcome.hint,
        file=outcome.file,
        line=outcome.line,
        duration_s=round(duration, 4),
        log_tail=outcome.log_tail,
        bonus=item.bonus,
        places=list(outcome.places),
    )


def grade(ctx: Context, phase: str | None = None) -> list[CheckResult]:
    return [run_check(item.id, ctx) for item in ctx.rubric.items if phase is None or item.phase == phase]


for _module in MODULES:  # the built-in checks are always there; plugins load on first use (plugins())
    importlib.import_module(_module)
