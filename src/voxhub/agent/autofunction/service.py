"""The AutoFunction lifecycle: generate → check → test in the sandbox → pending → approved (live) / disabled."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from jsonschema import exceptions as schema_errors
from jsonschema.validators import validator_for

from voxhub.agent.autofunction.generator import GeneratedTool, generate_tool
from voxhub.agent.autofunction.properties import PropertyReport, build_check, read_report
from voxhub.agent.autofunction.sandbox import Sandbox, SandboxResult
from voxhub.agent.autofunction.static_check import Violation, check_source, function_parameters
from voxhub.agent.autofunction.store import AutoFunction, AutoFunctionStore
from voxhub.agent.autofunction.tool import AutoFunctionTool
from voxhub.agent.tools.base import Tool
from voxhub.errors import InputError, VoxhubError

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.engines.llm.base import LlmEngine
    from voxhub.sessions.store.base import Store

logger = logging.getLogger(__name__)


class AutoFunctionRejected(InputError):
    """The generated code broke the allow-list; details list every violation with its line."""

    code = "autofunction_rejected"
    status_code = 422


class AutoFunctionConflict(VoxhubError):
    """The tool cannot move to the asked state (its tests failed, or its name is taken)."""

    code = "autofunction_conflict"
    status_code = 409


class ToolSink(Protocol):
    """Where approved tools go live: the agent's ToolRegistry (only these two methods are used)."""

    def register(self, tool: Tool) -> object: ...

    def unregister(self, name: str) -> object: ...


def _signature_violations(tool: GeneratedTool) -> list[Violation]:
    """Schema properties the function cannot take: the agent would call it with arguments it rejects."""
    accepted = function_parameters(tool.source, tool.name)
    if accepted is None:
        return []  # the static check already reports the missing function
    properties = tool.parameters.get("properties", {})
    violations = [
        Violation(1, 0, "signature", f"parameter {name!r} is in the schema but not in `def {tool.name}`")
        for name in properties
        if name not in accepted
    ]
    try:
        validator_for(tool.parameters).check_schema(tool.parameters)
    except schema_errors.SchemaError as exc:
        violations.append(Violation(1, 0, "parameters", f"the parameter schema is invalid: {exc.message}"))
    return violations


class AutoFunctionService:
    """Creates, stores and (un)registers generated tools; approved ones are live without a restart.

    `llm` gives the engine (or an awaitable of it, e.g. `lambda: pool.get("llm")`) each time a tool is
    created; `registry` receives approved tools. Call `start()` once at start-up to register the tools approved before.
    """

    def __init__(
        self,
        settings: Settings,
        llm: Callable[[], LlmEngine | Awaitable[LlmEngine]],
        registry: ToolSink | None = None,
        *,
        sandbox: Sandbox | None = None,
        documents: Store | None = None,
    ) -> None:
        self.settings = settings
        self.sandbox = sandbox or Sandbox.from_settings(settings)
        self.store = AutoFunctionStore(settings.data_dir / "autofunctions", documents)
        self._llm = llm
        self._registry = registry
        self._lock = asyncio.Lock()  # one state change at a time: names and registrations stay consistent

    async def start(self) -> int:
        """Log the sandbox's confinement layers (a warning per missing one), then register every approved
        tool with the registry; returns how many went live."""
        await self.sandbox.probe()
        approved = [function for function in await self.store.all() if function.status == "approved"]
        for function in approved:
            self._register(function)
        return len(approved)

    def tool(self, function: AutoFunction) -> AutoFunctionTool:
        """The callable tool of a definition (whatever its status; the registry holds only approved ones)."""
        return AutoFunctionTool(function, self.sandbox)

    async def create(self, description: str) -> AutoFunction:
        """Have the LLM write a tool for `description`; check it, test it in the sandbox, save it pending."""
        engine = self._llm()
        generated = await generate_tool(await engine if inspect.isawaitable(engine) else engine, description)
        extra = self.settings.autofunction_allowed_modules
        violations = check_source(generated.source, function_name=generated.name, extra_modules=extra)
        violations += _signature_violations(generated)
        test_violations = check_source(generated.tests, extra_modules=extra, definitions_only=False)
        if violations or test_violations:
            raise AutoFunctionRejected(
                f"the generated tool {generated.name!r} breaks the sandbox's rules "
                f"({len(violations) + len(test_violations)} violation(s))",
                details={
                    "name": generated.name,
                    "violations": [violation.to_dict() for violation in violations],
                    "test_violations": [violation.to_dict() for violation in test_violations],
                    "source": generated.source,
                    "tests": generated.tests,
                },
            )
        report = await self.sandbox.test(generated.source, generated.tests) if generated.tests else None
        checked = await self._property_check(generated)
        async with self._lock:
            now = time.time()
            function = AutoFunction(
                id=f"af_{uuid.uuid4().hex[:12]}",
                name=await self._free_name(generated.name),
                function=generated.name,
                description=generated.description,
                request=description.strip(),
                source=generated.source,
                parameters=generated.parameters,
                tests=generated.tests,
                status="pending",
                created_at=now,
                updated_at=now,
                test_report=(report.to_dict() if report else {"ok": False, "tests": None})
                | {"property_check": checked.to_dict()},
            )
            await self.store.save(function)
        logger.info(
            "autofunction created",
            extra={"autofunction": function.name, "id": function.id, "tests_passed": function.tests_passed},
        )
        if not checked.passed:
            case = checked.failures[0] if checked.failures else {"message": checked.error}
            logger.warning(
                "autofunction %s failed the property check: %s",
                function.name,
                case.get("message"),
                extra={"autofunction": function.name, "id": function.id, "failing_case": case},
            )
        return function

    async def _property_check(self, generated: GeneratedTool) -> PropertyReport:
        """voxhub's own tests of the tool (round trip, types), run in the sandbox like the model's."""
        check = build_check(generated.name, generated.name, generated.description, generated.parameters)
        if not check.checks:
            return read_report(check, SandboxResult(True, 0.0))
        return read_report(check, await self.sandbox.test(generated.source, check.source))

    async def all(self) -> list[AutoFunction]:
        """Every generated tool, oldest first."""
        return await self.store.all()

    async def get(self, function_id: str) -> AutoFunction:
        return await self.store.get(function_id)

    async def approve(self, function_id: str) -> AutoFunction:
        """Make the tool live: registered with the agent's registry, callable from the next turn on."""
        async with self._lock:
            function = await self.store.get(function_id)
            if not function.tests_passed:
                why = "its tests did not pass in the sandbox"
                if not function.property_check_passed:
                    failing = function.property_failures
                    check = function.test_report.get("property_check") or {}
                    said = (
                        failing[0].get("message") if failing else f"it did not finish: {check.get('error')}"
                    )
                    why = f"it failed voxhub's property check ({said})"
                raise AutoFunctionConflict(
                    f"{function.name!r} cannot be approved: {why}",
                    details={"id": function.id, "test_report": function.test_report},
                )
            if function.status == "approved":
                return function
            approved = function.with_status("approved", time.time())
            self._register(approved)
            try:
                await self.store.save(approved)
            except BaseException:
                self._unregister(approved.name)
                raise
        logger.info("autofunction approved", extra={"autofunction": function.name, "id": function.id})
        return approved

    async def disable(self, function_id: str) -> AutoFunction:
        """Take the tool out of the registry; it stays stored and can be approved again."""
        async with self._lock:
            function = await self.store.get(function_id)
            if function.status == "approved":
                self._unregister(function.name)
            disabled = function.with_status("disabled", time.time())
            await self.store.save(disabled)
        return disabled

    async def delete(self, function_id: str) -> None:
        async with self._lock:
            function = await self.store.get(function_id)
            if function.status == "approved":
                self._unregister(function.name)
            await self.store.delete(function_id)

    async def _free_name(self, wanted: str) -> str:
        taken = {function.name for function in await self.store.all()}
        name, suffix = wanted, 2
        while name in taken:
            name, suffix = f"{wanted}_{suffix}", suffix + 1
        return name

    def _register(self, function: AutoFunction) -> None:
        if self._registry is None:
            return
        try:
            self._registry.register(self.tool(function))
        except VoxhubError:
            raise
        except Exception as exc:  # a registry refusing (e.g. a built-in tool has the name) is a conflict
            raise AutoFunctionConflict(
                f"{function.name!r} cannot be registered: {exc}", details={"id": function.id}
            ) from exc

    def _unregister(self, name: str) -> None:
        if self._registry is None:
            return
        try:
            self._registry.unregister(name)
        except Exception as exc:  # already gone: what disabling wanted anyway
            logger.debug("unregister %s: %s", name, exc)
