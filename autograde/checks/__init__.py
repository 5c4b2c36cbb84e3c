"""The registry: the lab pack's check modules, in rubric order, and the plugins' checks after them.

Each check declares itself with `@check` in its module (id, rubric row, needs). Which checks grade is
the lab pack's choice (`autograde.labs`): its `check_modules`, imported when the pack is selected, in
their order, and within a module the order of declaration (importing a module earlier, one check
module importing another, changes nothing). This module imports no check module by name.

Plugins: a package installed beside the grader may register checks through the entry point group
`autograde.checks`; each entry point names a module that declares its checks with the same `@check`.
A plugin module may say which labs it is for (`LABS = ("lab04",)`); without it, it grades every lab.
A plugin that fails to import is the grader's `error` for its checks (naming it), never the student's.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from autograde import labs
from autograde.checks.base import DECLARED, CheckSpec, Context, Outcome, errored
from autograde.results import CheckResult
from autograde.rubric import ENV_VAR, Rubric, RubricItem, parse_rubric, read_rubric

PLUGIN_GROUP = "autograde.checks"
NO_PLUGINS_VAR = "AUTOGRADE_NO_PLUGINS"  # set (non-empty): load no plugin, e.g. to grade with the built-ins only


def modules() -> tuple[str, ...]:
    """The check modules of the lab pack in effect, in rubric order."""
    return labs.current().check_modules


@dataclass(frozen=True)
class Plugin:
    name: str  # the entry point's name
    module: str  # the module it names
    distribution: str  # "package version" of the package that declares it, "" if unknown
    checks: tuple[str, ...]  # ids it declared
    error: str | None = None  # why it failed to load
    labs: tuple[str, ...] = ()  # the labs it is for (its module's LABS); empty: every lab

    @property
    def label(self) -> str:
        return f"{self.name} ({self.distribution or self.module})"

    def applies(self) -> bool:
        return not self.labs or labs.current().id in self.labs


_plugins: tuple[Plugin, ...] | None = None


def plugins() -> tuple[Plugin, ...]:
    """The plugins that apply to the lab in effect (loaded once, by entry point name); one that fails to load
    is kept with its error."""
    global _plugins
    for module in modules():
        importlib.import_module(module)
    if _plugins is None:
        _plugins = _load_plugins()
    return tuple(p for p in _plugins if p.applies())


def _load_plugins() -> tuple[Plugin, ...]:
    found: list[Plugin] = []
    if os.environ.get(NO_PLUGINS_VAR):
        return ()
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ""
        module = ep.value.partition(":")[0].strip()
        before = set(DECLARED)
        for_labs: tuple[str, ...] = ()
        try:
            loaded = importlib.import_module(module)
            error = None
            declared_labs = getattr(loaded, "LABS", ())
            for_labs = tuple(str(x) for x in declared_labs) if isinstance(declared_labs, (tuple, list)) else ()
        except (Exception, SystemExit) as e:  # the instructor's code: anything may go wrong
            error = f"{type(e).__name__}: {e}"
        added = [k for k in DECLARED if k not in before]
        if error is not None:
            for k in added:  # half-registered: none of its checks is trusted
                del DECLARED[k]
            added = []
        found.append(Plugin(ep.name, module, dist, tuple(i for _, i in added), error, for_labs))
    return tuple(found)


def _spec_order() -> list[CheckSpec]:
    """The checks of the lab in effect, in rubric order: its modules', then the applying plugins'."""
    loaded = plugins()
    order = list(modules())
    specs = [s for s in DECLARED.values() if s.module in order]
    specs.sort(key=lambda s: order.index(s.module))  # stable: declaration order within a module
    seen = {s.item.id for s in specs}
    for plugin in loaded:
        for key, spec in DECLARED.items():
            if key[1] in plugin.checks and spec.module not in order and spec.item.id not in seen:
                specs.append(spec)
                seen.add(spec.item.id)
    return specs


class _Registry(Mapping[str, CheckSpec]):
    """The checks that grade the lab in effect, by id (a view: it follows the pack selected)."""

    def _now(self) -> dict[str, CheckSpec]:
        return {s.item.id: s for s in _spec_order()}

    def __getitem__(self, key: str) -> CheckSpec:
        return self._now()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())


REGISTRY: Mapping[str, CheckSpec] = _Registry()
"""The checks of the lab pack in effect, by id, in rubric order."""


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
    return Rubric(items=default_items(), thresholds=dict(labs.current().thresholds))


def _broken_plugins() -> str | None:
    broken = [p.label for p in plugins() if p.error]
    return ", ".join(broken) if broken else None


def load_rubric(path: str | Path | None = None, *, text: str | None = None, source: str = "") -> Rubric:
    """The default rubric, or the default changed by an instructor's YAML (a file, or text)."""
    if path is not None:
        text, source = read_rubric(path)
    if text is None:
        return default_rubric()
    return parse_rubric(
        text,
        source or "rubric",
        default_items(),
        orphans_of=_broken_plugins(),
        thresholds=dict(labs.current().thresholds),
    )


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


def disagreements(ctx: Context) -> list[dict[str, object]]:
    """Where a check's text rules and its evidence give different verdicts (the evidence's is the grade), so the
    rules can be improved. A check module lists such checks in `EVIDENCE_CHECKS`: id -> (verdict from the
    files, verdict from the evidence or None), both called with the check's needs. Empty without a runtime."""
    if ctx.facts is None:
        return []
    out: list[dict[str, object]] = []
    for name in modules():
        table = getattr(importlib.import_module(name), "EVIDENCE_CHECKS", {})
        for check_id, (by_text, by_evidence) in table.items():
            spec = REGISTRY.get(check_id)
            if spec is None or check_id not in {i.id for i in ctx.rubric.items}:
                continue
            given = [need(ctx) for need in spec.needs]
            if any(isinstance(g, Outcome) for g in given):
                continue
            text = by_text(ctx, *given)
            evidence = by_evidence(ctx, *given, text)
            if evidence is not None and evidence.status != text.status:
                out.append(
                    {
                        "check": check_id,
                        "text_rule": {"status": text.status, "message": text.message, "line": text.line},
                        "evidence": {"status": evidence.status, "message": evidence.message, "line": evidence.line},
                    }
                )
    return out
