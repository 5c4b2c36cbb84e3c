"""What checks need from the context, for any lab: the Dockerfile the lab builds, the compose file it runs,
its web service. Each gives the thing itself, or the Outcome that stands in when it is missing (a missing
file fails, with its file and line). The names come from the lab pack's scenario."""

from __future__ import annotations

from autograde import labs
from autograde.checks.base import Context, Outcome, failed, from_problem
from autograde.model.compose import ComposeFile, Service
from autograde.model.dockerfile import Dockerfile, suggest_instruction


def dockerfile_model(ctx: Context) -> Dockerfile | Outcome:
    """Need: the Dockerfile the lab builds, parsed, with instructions Docker knows and at least one stage."""
    sub = ctx.submission
    name = labs.current().scenario.dockerfile
    if sub.dockerfile_problem is not None:
        return from_problem(sub.dockerfile_problem)
    df = sub.dockerfile
    assert df is not None
    if df.unknown:
        ins = df.unknown[0]
        return failed(
            f"{name}:{ins.line}: unknown instruction {ins.cmd} ({suggest_instruction(ins.cmd)})",
            "Docker refuses to build a Dockerfile with unknown instructions; fix the spelling.",
            name,
            ins.line,
        )
    if not df.stages:
        return failed(
            f"{name} has no FROM instruction yet (still the starter?)",
            labs.current().hints.get("no_stage", "Complete the TODOs, starting with a `FROM` line."),
            name,
            1,
        )
    return df


def stack_model(ctx: Context) -> ComposeFile | Outcome:
    """Need: the compose file the lab runs, as Compose resolves it."""
    sub = ctx.submission
    if sub.prod_problem is not None:
        return from_problem(sub.prod_problem)
    assert sub.prod is not None
    return sub.prod


def service(cf: ComposeFile, name: str) -> Service | Outcome:
    """The service `name` of the stack, with settings, or why not (missing, only in a profile, still empty)."""
    found = cf.services.get(name)
    if found is None:
        profiles = cf.inactive.get(name)
        if profiles:
            file, line = cf.where("services", name, "profiles")
            return failed(
                f"{file}:{line}: the service `{name}` is only in the profile{'s' if len(profiles) > 1 else ''} "
                f"{', '.join(profiles)}, so `docker compose -f {cf.name} up` does not start it",
                f"Remove `profiles:` from `{name}`; a service the stack needs must start without a profile.",
                file,
                line,
            )
        return failed(
            f"{cf.name} does not define the service `{name}`",
            f"Add `{name}:` under `services:`.",
            cf.name,
            cf.line("services"),
        )
    if not found.data or (found.raw is not None and not found.raw and len(found.data) <= 2):
        file, line = cf.where("services", name)
        return failed(
            f"{file}:{line}: `{name}` has no settings yet (still the TODO?)",
            f"Fill in the settings of `{name}` as the TODO comment describes.",
            file,
            line,
        )
    return found


def web_service(ctx: Context) -> Service | Outcome:
    """Need: the lab's web service (the one built from the student's Dockerfile), with settings."""
    cf = stack_model(ctx)
    return cf if isinstance(cf, Outcome) else service(cf, labs.current().scenario.web)
