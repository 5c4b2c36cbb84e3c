"""LAB06's checks: the two health checks, their timing, `depends_on` with `service_healthy`, and what Docker
reports of the running stack.

The compose file is read as Compose resolves it; web's check may also come from a HEALTHCHECK of
app/Dockerfile (Docker uses it when the compose file sets none). When the stack ran, what Docker did
decides: each check was run once by hand in its running container (it must pass), web's once more
after Redis was stopped (it must fail: the app's /health answers 503 without Redis), and Docker's own
`State.Health` must say `healthy` within the time the file's settings allow. The text rules decide under
`--static-only`, point at the lines, and word the hints.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from autograde.checks.base import Context, Outcome, check, errored, failed, not_built, passed, runtime_facts, skipped
from autograde.checks.needs import service, stack_model, web_service
from autograde.labs.lab06 import PACK
from autograde.model.compose import ComposeFile, Service
from autograde.runtime.facts import Facts, HealthFacts, ServiceHealth

F = PACK.scenario.stack_file  # docker-compose.yml
WEB, REDIS = PACK.scenario.web, PACK.scenario.redis
DOCKERFILE = PACK.scenario.dockerfile
DEFAULTS = {"interval": 30.0, "timeout": 30.0, "retries": 3, "start_period": 0.0}
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def go_duration(text: object) -> float | None:
    """Seconds of a Go duration as Compose and Docker read them (`1m30s`, `500ms`, `2.5s`, `-5s`); a bare number
    is nanoseconds. None when it is not one."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float):
        return float(text) / 1e9
    raw = str(text).strip()
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        return None
    return sign * sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass(frozen=True)
class Check:
    """A service's health check in effect, where it is written, and its settings as written (None: not set)."""

    service: str
    test: tuple[str, ...]  # as Docker stores it: ("CMD", ...), ("CMD-SHELL", "..."), ("NONE",)
    settings: dict[str, Any]
    file: str
    line: int | None

    @property
    def command(self) -> str:
        """The command as one line, for messages (its words as written, without the CMD / CMD-SHELL marker)."""
        return " ".join(self.test[1:]) if self.test[:1] in (("CMD",), ("CMD-SHELL",)) else " ".join(self.test)

    @property
    def words(self) -> list[str]:
        """The command's words (a shell command split as the shell would, roughly)."""
        if self.test[:1] == ("CMD",):
            return list(self.test[1:])
        try:
            return shlex.split(" ".join(self.test[1:]))
        except ValueError:
            return " ".join(self.test[1:]).split()


def health_check(ctx: Context, cf: ComposeFile, name: str) -> Check | None:
    """The health check Docker runs for service `name`: its `healthcheck:` in the compose file as Compose resolves
    it (a plain string test is `CMD-SHELL`), else, for web, the last HEALTHCHECK of the stage app/Dockerfile
    builds (settings the compose file leaves out come from there too, as Docker merges them). None: none, or
    disabled."""
    svc = cf.services.get(name)
    raw = svc.get("healthcheck") if svc is not None else None
    image = _dockerfile_check(ctx) if name == WEB else None
    if isinstance(raw, dict) and not raw.get("disable"):
        test = raw.get("test")
        words = tuple(str(w) for w in test) if isinstance(test, list) else ("CMD-SHELL", str(test)) if test else ()
        if not words and image is not None:
            words = image.test
        settings = {k: raw.get(k) for k in ("interval", "timeout", "retries", "start_period", "start_interval")}
        if image is not None:
            settings = {k: v if v is not None else image.settings.get(k) for k, v in settings.items()}
        file, line = cf.where("services", name, "healthcheck")
        if not words or words[0] == "NONE":
            return None
        return Check(name, words, settings, file, line)
    if isinstance(raw, dict) and raw.get("disable"):
        return None
    return image


def _dockerfile_check(ctx: Context) -> Check | None:
    df = ctx.submission.dockerfile
    final = df.final if df is not None else None
    if df is None or final is None:
        return None
    found = [i for i in df.instructions_of(final) if i.cmd == "HEALTHCHECK"]
    if not found:
        return None
    ins = found[-1]
    if not ins.args or ins.args[0].upper() == "NONE":
        return None
    test = ("CMD", *ins.args[1:]) if ins.json else ("CMD-SHELL", " ".join(ins.args[1:]))
    flags = ins.flags
    retries = flags.get("retries")
    settings = {
        "interval": flags.get("interval"),
        "timeout": flags.get("timeout"),
        "retries": int(retries) if retries is not None and retries.strip().isdigit() else retries,
        "start_period": flags.get("start-period"),
        "start_interval": flags.get("start-interval"),
    }
    return Check(WEB, test, settings, DOCKERFILE, ins.line)


def redis_service(ctx: Context) -> Service | Outcome:
    """Need: the redis service, with settings."""
    cf = stack_model(ctx)
    return cf if isinstance(cf, Outcome) else service(cf, REDIS)


def _ran(facts: Facts | None, name: str) -> ServiceHealth | None:
    """What Docker and the grader saw of a service's check, when the stack ran."""
    if facts is None or facts.error or facts.refused:
        return None
    return facts.health_states.get(name)


def _said(h: HealthFacts) -> str:
    """How a run of a check ended: its exit code and the last line it printed (a traceback's last line is its
    error)."""
    if h.exit_code is None:
        return f"it did not finish within {h.timeout:g} s"
    lines = [ln.strip() for ln in (h.output or "").splitlines() if ln.strip()]
    out = lines[-1][-160:] if lines else ""
    return f"exit code {h.exit_code}" + (f": {out}" if out else "")


_MISSING = re.compile(r"(?:^|[\s:])(?P<prog>[\w./-]+): (?:not found|No such file or directory|command not found)")


def _missing_program(h: HealthFacts) -> str:
    m = _MISSING.search(h.output or "")
    if m and h.exit_code in (126, 127, 1, 2):
        return m.group("prog").rsplit("/", 1)[-1]
    if "executable file not found" in (h.output or ""):
        m2 = re.search(r'exec: "([^"]+)": executable file not found', h.output or "")
        return m2.group(1) if m2 else "the program"
    return ""


# --------------------------------------------------------------------------- web's check, from its text


def _fails_on_error_status(c: Check) -> tuple[bool, str]:
    """Whether the command fails on an HTTP error status, as far as its text tells, and why not."""
    words = c.words
    text = " ".join(words)
    names = [w.rsplit("/", 1)[-1] for w in words]
    if "curl" in names:
        fail = any(
            w in ("-f", "--fail", "--fail-with-body") or (w.startswith("-") and not w.startswith("--") and "f" in w)
            for w in words
        )
        return fail, "" if fail else "curl without `-f`/`--fail` exits 0 on an error status such as 503"
    if "wget" in names:
        return True, ""
    if any(re.match(r"^python[0-9.]*$", n) for n in names):
        if "urlopen" in text:
            return True, ""
        if re.search(r"\bstatus\b", text) and re.search(r"\b(exit|raise|assert)\b", text):
            return True, ""
        return False, "the Python command does not fail on an error status (urllib.request.urlopen does)"
    return False, "the command is not one that requests a URL (Python, or curl with --fail, or wget)"


def _targets_health(c: Check) -> str:
    """Why the command does not request /health on port 5000 inside the container, or ""."""
    text = " ".join(c.words)
    urls = re.findall(r"https?://[^\s'\"]+", text)
    if not urls:  # a client given host, port and path apart (http.client.HTTPConnection('localhost', 5000))
        if re.search(r"['\"]/health\b", text) and re.search(r"\b5000\b", text):
            return ""
        return "it names no http://localhost:5000/health URL (nor port 5000 and the path /health)"
    good = [u for u in urls if re.match(r"https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]):5000/health\b", u)]
    if good:
        return ""
    return f"it requests {urls[0]}, not http://localhost:5000/health (the app's port inside its container)"


def _tool_in_image(ctx: Context, c: Check) -> str:
    """A program the command needs that the image does not have (curl, wget: not in python:3.13-slim), or ""."""
    names = {w.rsplit("/", 1)[-1] for w in c.words}
    df = ctx.submission.dockerfile
    final = df.final if df is not None else None
    installs = " ".join(
        " ".join(i.args)
        for i in (df.instructions_of(final) if df is not None and final is not None else [])
        if i.cmd == "RUN"
    )
    for tool in ("curl", "wget"):
        if tool in names and not re.search(rf"\b(apt-get|apt|apk)\b[^\n]*\binstall\b[^\n]*\b{tool}\b", installs):
            return tool
    return ""


def _web_text(ctx: Context, c: Check, what_runs_decides: bool = False) -> Outcome:
    """web's check from its text. Whether it requests /health on port 5000 only the text shows; whether it can
    pass in the image and fails on an error status, the running container decides when it ran
    (`what_runs_decides`): then only the first is judged here."""
    where = f"{c.file}:{c.line}" if c.line else c.file
    wrong = _targets_health(c)
    if wrong:
        return failed(
            f"{where}: web's health check `{c.command}`: {wrong}",
            "Request http://localhost:5000/health: Docker runs the check inside the web container, where the app "
            "listens on 5000 (5007 is the host's port), and /health asks Redis without counting a visit.",
            c.file,
            c.line,
        )
    if what_runs_decides:
        return passed(f"web's health check `{c.command}` requests /health on port 5000", c.file, c.line)
    missing = _tool_in_image(ctx, c)
    if missing:
        return failed(
            f"{where}: web's health check runs `{c.command}`, but {missing} is not in the image app/Dockerfile "
            "builds (python:3.13-slim has neither curl nor wget), so the check cannot pass",
            "Check with the image's Python: " + _example(),
            c.file,
            c.line,
        )
    fails, why = _fails_on_error_status(c)
    if not fails:
        return failed(
            f"{where}: web's health check `{c.command}` would pass while the app answers 503: {why}",
            "Use a command that exits non-zero on an error status: " + _example(),
            c.file,
            c.line,
        )
    return passed(
        f"web's health check `{c.command}` requests /health on port 5000 and fails on an error status", c.file, c.line
    )


def _example() -> str:
    return (
        '`test: ["CMD", "python", "-c", "import urllib.request; '
        "urllib.request.urlopen('http://localhost:5000/health', timeout=2)\"]` (or install curl and use `curl -f`)."
    )


@check(
    "compose.web_healthcheck",
    name="web has a health check on /health that fails without Redis",
    points=20,
    checklist="2, 7",
    phase="static",
    passes_when="web has a health check that requests /health on port 5000; in the running image it passes while "
    "the app is healthy and fails once Redis is gone",
    needs=(stack_model, web_service),
)
def web_healthcheck(ctx: Context, cf: ComposeFile, web: Service) -> Outcome:
    c = health_check(ctx, cf, WEB)
    if c is None:
        file, line = cf.where("services", WEB)
        return failed(
            f"{file}:{line}: web has no health check, so Docker cannot tell whether the app serves",
            "Add a `healthcheck:` to web (TODO_WEB_HEALTHCHECK): " + _example(),
            file,
            line,
        )
    ran = _ran(ctx.facts, WEB)
    if ran is None or ran.by_hand is None:
        return _web_text(ctx, c)
    target = _web_text(ctx, c, what_runs_decides=True)
    if target.status == "fail":
        return target
    h = ran.by_hand
    if h.exit_code != 0:
        missing = _missing_program(h)
        why = f"; {missing} is not in the image (python:3.13-slim has neither curl nor wget)" if missing else ""
        return failed(
            f"web's health check `{c.command}` fails in the running container while the app is healthy "
            f"({_said(h)}){why}",
            ("Check with the image's Python: " if missing else "Run it yourself: `docker compose exec web ...`. ")
            + _example(),
            c.file,
            c.line,
        )
    without = ran.without
    if without is None:
        return _web_text(ctx, c)  # Redis could not be stopped: whether it fails without Redis, its text says
    if without.exit_code == 0:
        return failed(
            f"web's health check `{c.command}` still passes after Redis was stopped, while the app's /health answers "
            "503: Docker would never mark web unhealthy",
            "Use a command that exits non-zero on an error status: " + _example(),
            c.file,
            c.line,
        )
    return passed(
        f"web's health check `{c.command}` passes in the running container, and fails once Redis is stopped "
        f"({_said(without)})",
        c.file,
        c.line,
    )


# --------------------------------------------------------------------------- redis's check


def _redis_text(c: Check) -> Outcome:
    where = f"{c.file}:{c.line}" if c.line else c.file
    if c.test[:1] == ("CMD",) and len(c.test) == 2 and " " in c.test[1]:
        return failed(
            f"{where}: redis's health check is `{list(c.test)}`: in the exec form each word is its own list item, so "
            f"Docker looks for a program called {c.test[1]!r}",
            'Write `test: ["CMD", "redis-cli", "ping"]`.',
            c.file,
            c.line,
        )
    names = [w.rsplit("/", 1)[-1] for w in c.words]
    if "redis-cli" in names and any(w.lower() == "ping" for w in c.words):
        return passed(f"redis's health check runs `{c.command}`", c.file, c.line)
    return failed(
        f"{where}: redis's health check runs `{c.command}`, not `redis-cli ping`",
        'Write `test: ["CMD", "redis-cli", "ping"]`: it exits 0 when the server answers PONG.',
        c.file,
        c.line,
    )


@check(
    "compose.redis_healthcheck",
    name="redis has a redis-cli ping health check",
    points=15,
    checklist="1",
    phase="static",
    passes_when="redis has a health check that runs `redis-cli ping`, and it passes",
    needs=(stack_model, redis_service),
)
def redis_healthcheck(ctx: Context, cf: ComposeFile, redis: Service) -> Outcome:
    c = health_check(ctx, cf, REDIS)
    if c is None:
        file, line = cf.where("services", REDIS)
        return failed(
            f"{file}:{line}: redis has no health check, so Docker cannot tell when Redis accepts connections",
            'Add to redis (TODO_REDIS_HEALTHCHECK): `healthcheck: {test: ["CMD", "redis-cli", "ping"]}` with its timing.',
            file,
            line,
        )
    text = _redis_text(c)
    ran = _ran(ctx.facts, REDIS)
    if ran is None or ran.by_hand is None:
        return text
    h = ran.by_hand
    if h.exit_code != 0:
        return failed(
            f"redis's health check `{c.command}` fails in the running container ({_said(h)})",
            text.hint if text.status == "fail" else 'Write `test: ["CMD", "redis-cli", "ping"]`.',
            c.file,
            c.line,
        )
    if text.status == "fail":
        return text  # it passes, but it is not the redis-cli ping the row asks for
    return passed(f"redis's health check `{c.command}` passes in the running container ({_said(h)})", c.file, c.line)


# --------------------------------------------------------------------------- timing


def timing_problems(c: Check) -> list[str]:
    """What is wrong with a check's interval, timeout, retries and start_period, as Docker reads them."""
    s = c.settings
    problems = []
    unset = [k for k in ("interval", "timeout", "retries", "start_period") if s.get(k) is None]
    if unset:
        problems.append(f"sets no {', '.join(unset)}")
    durations: dict[str, float] = {}
    for key in ("interval", "timeout", "start_period"):
        value = s.get(key)
        if value is None:
            continue
        seconds = go_duration(value)
        if seconds is None:
            problems.append(f"{key} {value!r} is not a duration")
        elif seconds <= 0 or seconds < 0.001:
            problems.append(
                f"{key} {value} is not greater than 0 (Docker takes 0 for its default, {key} below 1ms fails)"
            )
        else:
            durations[key] = seconds
    retries = s.get("retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 1):
        problems.append(f"retries {retries!r} is not at least 1 (0 means Docker's default, 3)")
    if "interval" in durations and "timeout" in durations and durations["timeout"] > durations["interval"]:
        problems.append(f"timeout {s['timeout']} is longer than interval {s['interval']}")
    return problems


@check(
    "compose.healthcheck_timing",
    name="Both health checks set valid interval, timeout, retries and start_period",
    points=10,
    checklist="3",
    phase="static",
    passes_when="both health checks set interval, timeout, retries and start_period: durations Compose accepts and "
    "greater than 0, timeout not longer than interval, retries at least 1",
    needs=(stack_model,),
)
def healthcheck_timing(ctx: Context, cf: ComposeFile) -> Outcome:
    checks = [c for c in (health_check(ctx, cf, WEB), health_check(ctx, cf, REDIS)) if c is not None]
    if not checks:
        return failed(
            f"{F} has no health check yet, so there is no timing to set",
            "Add the two health checks (TODO_WEB_HEALTHCHECK, TODO_REDIS_HEALTHCHECK), each with interval, timeout, "
            "retries and start_period (README.md, Part 4).",
            F,
            cf.line("services"),
        )
    found = [(c, timing_problems(c)) for c in checks]
    bad = [(c, p) for c, p in found if p]
    if bad:
        c = bad[0][0]
        told = "; ".join(f"{c.service}'s ({c.file}:{c.line}) " + ", ".join(p) for c, p in bad)
        return failed(
            told,
            "Set all four on each health check, e.g. `interval: 5s`, `timeout: 3s`, `retries: 3`, "
            "`start_period: 10s` (README.md, Part 4).",
            c.file,
            c.line,
        )
    names = " and ".join(c.service for c in checks)
    missing = [n for n in (WEB, REDIS) if n not in {c.service for c in checks}]
    if missing:
        return passed(
            f"{names}'s health check sets valid timing ({missing[0]} has none: see its own check)",
            checks[0].file,
            checks[0].line,
        )
    return passed(
        "both health checks set valid interval, timeout, retries and start_period", checks[0].file, checks[0].line
    )


# --------------------------------------------------------------------------- depends_on


@check(
    "compose.depends_healthy",
    name="web waits for redis to be healthy",
    points=15,
    checklist="4",
    phase="static",
    passes_when="web depends on redis with `condition: service_healthy`",
    needs=(stack_model, web_service),
)
def depends_healthy(ctx: Context, cf: ComposeFile, web: Service) -> Outcome:
    raw = web.get("depends_on")
    file, line = cf.where("services", WEB, "depends_on")
    if file == F and line is None:
        file, line = cf.where("services", WEB)
    entry = raw.get(REDIS) if isinstance(raw, dict) else None
    if raw is None or (isinstance(raw, dict) and REDIS not in raw) or (isinstance(raw, list) and REDIS not in raw):
        return failed(
            f"{file}:{line}: web does not depend on redis",
            "Add `depends_on: {redis: {condition: service_healthy}}` to web (TODO_DEPENDS_HEALTHY).",
            file,
            line,
        )
    condition = entry.get("condition") if isinstance(entry, dict) else None
    if condition != "service_healthy":
        seen = f"`condition: {condition}`" if condition else "the short form (Compose reads it as service_started)"
        if isinstance(web.written("depends_on"), list):
            seen = "the plain list (`- redis`), which only waits for the Redis container to start"
        return failed(
            f"{file}:{line}: web depends on redis with {seen}, so it may start before Redis accepts connections",
            "Write the long form: `depends_on: {redis: {condition: service_healthy}}`.",
            file,
            line,
        )
    return passed("web depends on redis with `condition: service_healthy`", file, line)


# --------------------------------------------------------------------------- what Docker reported


def stack_facts(ctx: Context) -> Facts | Outcome:
    """Need: the run's facts (the stack was built), or why not."""
    facts = runtime_facts(ctx)
    if isinstance(facts, Outcome):
        return facts
    build = facts.prod_build
    if build is None:
        return errored("the web image was not built" + (" (interrupted)" if facts.interrupted else ""))
    if not build.ok:
        if build.infrastructure:
            return not_built(build, "the web image")
        from autograde.labs.lab04.build_diagnosis import explain_build

        told = explain_build(ctx.submission, build, "the web image")
        return (
            told
            if told.status != "fail"
            else failed(
                told.message
                + " (app/Dockerfile comes complete with the lab: restore it and the app from the template)",
                told.hint,
                told.file,
                told.line,
                told.log_tail,
            )
        )
    return facts


def _declared(ctx: Context, facts: Facts) -> list[ServiceHealth]:
    return [h for h in facts.health_states.values() if h.test and h.test[0] != "NONE"]


@check(
    "runtime.healthy",
    name="Docker reports the containers healthy in time",
    points=20,
    checklist="5",
    phase="runtime",
    passes_when="`docker compose up --build -d` starts the stack, and Docker reports each container whose health "
    "check works `healthy` within start_period + interval × retries of its start (plus a margin)",
    needs=(stack_facts,),
)
def healthy(ctx: Context, facts: Facts) -> Outcome:
    """Docker's own verdict, for the checks that work when run by hand (a check that cannot pass at all, or a
    service without one, is its own row's loss, not this one's): the timing the file's settings give."""
    declared = _declared(ctx, facts)
    if not declared:
        return skipped(
            "not graded: no service has a health check, so there is no health to wait for "
            "(see compose.web_healthcheck and compose.redis_healthcheck)"
        )
    working = [h for h in declared if h.by_hand is None or h.by_hand.exit_code == 0]
    aside = [h.name for h in declared if h not in working]
    aside += [n for n in (WEB, REDIS) if n not in facts.health_states or not facts.health_states[n].test]
    note = (
        f"; not judged here: {', '.join(aside)} (no health check, or one that cannot pass: see its own check)"
        if aside
        else ""
    )
    in_time = [
        h
        for h in working
        if h.status == "healthy" and h.healthy_after_s is not None and h.healthy_after_s <= h.budget_s
    ]
    late = [h for h in working if h not in in_time]
    if late:
        up = facts.up
        said = " ".join(up.output_tail.split())[-200:] if up is not None and not up.ok else ""
        return failed(
            "; ".join(_late(h) for h in late) + (f" (`docker compose up` said: {said})" if said else "") + note,
            "Run `docker compose up --build -d`, then `docker inspect --format '{{json .State.Health}}' <container>` "
            "to see Docker's own runs of the check: a timeout shorter than the check needs, or a start_period too "
            "short for the app to start, make a working check fail.",
        )
    if not in_time:
        return skipped("not graded: no health check can pass in its container" + note)
    told = "; ".join(
        f"{h.name} healthy {h.healthy_after_s:.1f} s after its start (its settings allow {h.budget_s:.0f} s)"
        for h in in_time
    )
    return passed(told + note)


def _late(h: ServiceHealth) -> str:
    last = h.log[-1] if h.log else None
    seen = ""
    if last is not None:
        out = [ln.strip() for ln in last[1].splitlines() if ln.strip()]
        seen = f"; Docker's last run of the check: exit code {last[0]}" + (f", {out[-1][-120:]}" if out else "")
    if h.state not in ("running", ""):
        return f"{h.name}'s container is {h.state}{seen}"
    if h.healthy_after_s is not None:
        return (
            f"{h.name} became healthy only {h.healthy_after_s:.1f} s after its start, later than its settings allow "
            f"({h.budget_s:.0f} s){seen}"
        )
    return f"Docker reports {h.name} {h.status or 'with no health status'}, not healthy within {h.budget_s:.0f} s{seen}"


@check(
    "runtime.counter",
    name="Hit counter on the healthy stack counts in Redis",
    points=20,
    checklist="6",
    phase="runtime",
    passes_when="on the healthy stack, GET / answers 200 twice with n then n+1, and Redis holds the count",
    needs=(stack_facts,),
)
def counter(ctx: Context, facts: Facts) -> Outcome:
    if not _declared(ctx, facts):
        return skipped(
            "not graded: without health checks Docker cannot tell that the stack is ready, which is what this lab "
            "grades (see compose.web_healthcheck and compose.redis_healthcheck)"
        )
    up = facts.up
    if up is None:
        return errored("the stack was not started" + (" (interrupted)" if facts.interrupted else ""))
    if up.infrastructure:
        return errored(f"the stack did not start, for a reason outside your files: {up.infrastructure}", "Grade again.")
    web = next((s for s in up.services if s.name == WEB), None)
    if web is None or web.state != "running":
        said = " ".join(up.output_tail.split())[-200:]
        return skipped(
            "web did not start, so the counter could not be asked"
            + (f" (`docker compose up` said: {said})" if said else "")
            + " (see runtime.healthy)"
        )
    c = facts.counter
    if c is None:
        return errored("the counter was not probed" + (" (interrupted)" if facts.interrupted else ""))
    for label, r in (("first request", c.first), ("second request", c.second)):
        if r is None or r.status != 200 or r.count is None:
            seen = "no answer" if r is None or r.status is None else f"HTTP {r.status}"
            return failed(
                f"{label} to {c.url}: {seen}" + (f" ({r.error})" if r is not None and r.error else ""),
                "The app must answer 200 on / with its count; read web's log (`docker compose logs web`).",
            )
    assert c.first is not None and c.second is not None and c.first.count is not None
    n = c.first.count
    if c.second.count != n + 1:
        return failed(f"two requests counted {n} then {c.second.count}, not {n} then {n + 1}")
    if c.redis_value is None or c.redis_value.strip() != str(n + 1):
        seen = c.redis_error or f"GET hits = {c.redis_value!r}"
        return failed(f"the app counted {n + 1}, but Redis says {seen}", "Keep REDIS_HOST=redis in web's environment.")
    return passed(f"{c.url} counted {n}, {n + 1}; Redis holds {n + 1}")
