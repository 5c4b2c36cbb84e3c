"""LAB04's checks of docker-compose.prod.yml, graded from the file as Docker Compose resolves it."""

from __future__ import annotations

from typing import Any

from autograde.checks.base import Context, Outcome, check, failed, passed
from autograde.checks.needs import service, stack_model, web_service
from autograde.labs.lab04 import PACK
from autograde.labs.lab04.hints import depends_on_hint, environment_hint, ports_hint, split_image
from autograde.model.compose import ComposeFile, Service
from autograde.model.files import FileProblem, read_text

PROD_FILE = PACK.scenario.stack_file  # docker-compose.prod.yml
F = PROD_FILE


prod_model = stack_model  # the need's LAB04 name: docker-compose.prod.yml, as Compose resolves it


def _service(cf: ComposeFile, name: str) -> Service | Outcome:
    return service(cf, name)


def _at(cf: ComposeFile, *path: str) -> str:
    """`file:line` of a setting, where it is written (this file, a file it includes, the service it extends)."""
    file, line = cf.where(*path)
    return f"{file}:{line}" if line else file


@check(
    "compose.services",
    name="docker-compose.prod.yml defines web_prod and redis_prod",
    points=5,
    checklist="6",
    phase="static",
    passes_when="services web_prod and redis_prod exist; redis_prod runs a redis image",
    needs=(prod_model,),
)
def services(ctx: Context, cf: ComposeFile) -> Outcome:
    for name in ("web_prod", "redis_prod"):
        s = _service(cf, name)
        if isinstance(s, Outcome):
            return s
    redis = cf.services["redis_prod"]
    image = cf.image(redis)
    file, line = cf.where("services", "redis_prod", "image")
    if image is None:
        file, line = cf.where("services", "redis_prod")
        return failed(
            f"{file}:{line}: redis_prod names no image", "Add `image: redis:alpine` to redis_prod.", file, line
        )
    repo, _ = split_image(image)
    if repo != "redis":
        return failed(
            f"{file}:{line}: redis_prod runs {image}, not a redis image", "Use `image: redis:alpine`.", file, line
        )
    file, line = cf.where("services", "redis_prod")
    elsewhere = f" (in {file})" if file != F else ""
    return passed(f"web_prod and redis_prod are defined; redis_prod runs {image}{elsewhere}", file, line)


@check(
    "compose.web_prod",
    name="web_prod: port 5005, REDIS_HOST, depends_on, image name",
    points=10,
    checklist="6",
    phase="static",
    passes_when="web_prod publishes 5005 -> 5000, sets REDIS_HOST to the Redis service "
    "(redis_prod), depends on it and names its image",
    needs=(prod_model, web_service),
)
def web_prod(ctx: Context, cf: ComposeFile, web: Service) -> Outcome:
    problems: list[tuple[str, str, tuple[str, int | None]]] = []
    ports = cf.ports(web)
    if not any(p.published in ("5005", "5005-5005") and p.target == "5000" and p.protocol == "tcp" for p in ports):
        seen = ", ".join(f"{p.published or '(none)'}->{p.target}" for p in ports) or "no ports"
        problems.append(
            (
                f"publishes {seen}, not host 5005 -> container 5000",
                ports_hint(cf, web),
                cf.where("services", "web_prod", "ports"),
            )
        )
    env = cf.environment(web)
    env_at = cf.where("services", "web_prod", "environment")
    if env_at[1] is None or ("environment" not in (web.raw or {}) and web.written("env_file") is not None):
        env_at = cf.where("services", "web_prod", "env_file")
    redis_host = env.get("REDIS_HOST") if "REDIS_HOST" in env else _env_files(ctx, cf, web).get("REDIS_HOST")
    redis = cf.redis_service() or "redis_prod"  # a misnamed Redis service is compose.services' loss, not this one's
    if redis_host is None or redis_host not in redis_names(cf, web, redis):
        seen = "does not set REDIS_HOST" if redis_host is None else f"sets REDIS_HOST={redis_host}"
        problems.append(
            (
                f"{seen}; the app must reach Redis by a name of the service {redis} "
                "(its service name, or a network alias or hostname it declares)",
                environment_hint(cf, web, redis),
                env_at,
            )
        )
    if redis not in cf.depends_on(web):
        problems.append(
            (
                f"does not depend on {redis}",
                depends_on_hint(web, redis),
                cf.where("services", "web_prod", "depends_on"),
            )
        )
    if cf.image(web) is None:
        problems.append(
            (
                "names no image",
                "Add `image: <yourname>/app-prod:lab04` so the image is easy to find.",
                cf.where("services", "web_prod"),
            )
        )
    if problems:
        file, line = problems[0][2]
        return failed("web_prod " + "; ".join(p[0] for p in problems), " ".join(p[1] for p in problems), file, line)
    called = redis if redis_host == redis else f"{redis_host} (a name of {redis})"
    file, line = cf.where("services", "web_prod")
    return passed(
        f"web_prod publishes 5005->5000, sets REDIS_HOST={called}, depends on {redis} and is named {cf.image(web)}",
        file,
        line,
    )


def _networks(service: Service) -> dict[str, Any]:
    """A service's networks as {name: settings}: the list and mapping forms alike; `default` when none."""
    raw = service.get("networks")
    if isinstance(raw, list):
        return {str(n): {} for n in raw}
    if isinstance(raw, dict):
        return {str(n): (v if isinstance(v, dict) else {}) for n, v in raw.items()}
    return {"default": {}}


def redis_names(cf: ComposeFile, web: Service, redis: str) -> set[str]:
    """The names under which web_prod reaches the Redis service, as Docker's DNS answers them: the service
    name, its `hostname` and `container_name`, the network aliases it declares on a network web_prod
    is also on, and the alias web_prod's `links` give it. (The grader replaces container names on its shared engine, and keeps the student's as a
    network alias, so that name still resolves.)
    """
    service = cf.services.get(redis)
    names = {redis}
    if service is None:
        return names
    for key in ("hostname", "container_name"):
        value = service.get(key)
        if isinstance(value, str) and value:
            names.add(value)
    shared = _networks(web).keys()
    for network, settings in _networks(service).items():
        aliases = settings.get("aliases")
        if network in shared and isinstance(aliases, list):
            names.update(str(a) for a in aliases if isinstance(a, str | int))
    links = web.get("links")
    for link in links if isinstance(links, list) else []:  # `links: ["redis_prod:redis"]` names it for web_prod
        target, _, alias = str(link).partition(":")
        if target == redis and alias:
            names.add(alias)
    return names


def _env_files(ctx: Context, cf: ComposeFile, web: Service) -> dict[str, str]:
    """REDIS_HOST and the like from web_prod's env files, for the YAML model (Compose's answer has them merged)."""
    if cf.by_compose:
        return {}
    raw = web.get("env_file")
    names = (
        [raw]
        if isinstance(raw, str)
        else [e.get("path") if isinstance(e, dict) else e for e in raw or []]
        if isinstance(raw, list)
        else []
    )
    env: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str):
            continue
        try:
            text = read_text(ctx.submission.root, name, what="an env file")
        except FileProblem:
            continue
        for line in text.splitlines():
            key, eq, value = line.strip().partition("=")
            if eq and not key.startswith("#"):
                env[key.strip()] = value.strip().strip("'\"")
    return env


@check(
    "compose.web_build",
    name="web_prod builds from Dockerfile.prod",
    points=5,
    checklist="7",
    phase="static",
    passes_when="web_prod builds with context `.` and dockerfile `Dockerfile.prod`",
    needs=(prod_model, web_service),
)
def web_build(ctx: Context, cf: ComposeFile, web: Service) -> Outcome:
    build = cf.build(web)
    if build is None:
        file, line = cf.where("services", "web_prod")
        return failed(
            f"{file}:{line}: web_prod has no `build:`; it would run a prebuilt image instead of yours "
            "(to grade the rest, the grader built Dockerfile.prod from the repository root)",
            "Add `build: {context: ., dockerfile: Dockerfile.prod}`.",
            file,
            line,
        )
    file, line = cf.where("services", "web_prod", "build")
    wrong = []
    if build.context != ".":
        wrong.append(f"context is {build.context!r}, not the repository root '.'")
    if build.dockerfile != "Dockerfile.prod":
        wrong.append(f"dockerfile is {build.dockerfile!r}, not 'Dockerfile.prod'")
    if wrong:
        used = ctx.submission.build
        if used.students:
            note = " (it still builds Dockerfile.prod, so the grader built and ran it that way)"
            hint = (
                "Use `context: .` and `dockerfile: Dockerfile.prod`, as the lab asks. COPY sources are relative "
                "to the build context, so in Dockerfile.prod paths then start with app/ (e.g. "
                "`COPY app/requirements.txt ...`, `COPY app/ .`)."
            )
        else:
            note = f" ({used.reason}: to grade the rest, the grader built Dockerfile.prod from the repository root)"
            hint = "Use `build:` with `context: .` and `dockerfile: Dockerfile.prod`."
        return failed(f"{file}:{line}: web_prod's build " + " and ".join(wrong) + note, hint, file, line)
    used = ctx.submission.build
    if used.target_problem:
        file, line = cf.where("services", "web_prod", "build", "target")
        final = ctx.submission.dockerfile.stages[-1] if ctx.submission.dockerfile else None
        last = f" ({final.alias or 'unnamed'}, line {final.line})" if final is not None else ""
        return failed(
            f"{file}:{line}: web_prod's build {used.target_problem}, so `docker compose -f {F} up` would run that "
            f"stage (to grade the rest, the grader built the last stage{last}, as Docker does without a target)",
            "Set `target:` to your final stage, or remove `target:` so that Docker builds the last stage.",
            file,
            line,
        )
    built = f", target {build.target}" if build.target else ""
    return passed(f"web_prod builds from Dockerfile.prod with context .{built}", file, line)
