"""AutoFunction routes: create a tool from a description, review it, approve it (admin), disable, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from voxhub.agent.autofunction.generator import MAX_DESCRIPTION_CHARS
from voxhub.agent.autofunction.service import AutoFunctionService
from voxhub.agent.autofunction.store import AutoFunction
from voxhub.api.auth import require_auth
from voxhub.errors import VoxhubError


class AutoFunctionsUnavailable(VoxhubError):
    code = "autofunctions_unavailable"
    status_code = 503


def autofunction_service(connection: HTTPConnection) -> AutoFunctionService:
    """FastAPI dependency: the app's AutoFunctionService, kept on `app.state.voxhub.autofunctions`."""
    service = getattr(getattr(connection.app.state, "voxhub", None), "autofunctions", None)
    if not isinstance(service, AutoFunctionService):
        raise AutoFunctionsUnavailable("AutoFunction is not enabled on this server")
    return service


Service = Annotated[AutoFunctionService, Depends(autofunction_service)]
# Approving runs generated code for every future caller: with a token configured it must be presented,
# even if the router was mounted without auth.
admin_only = [Depends(require_auth)]

router = APIRouter(prefix="/api/v1/autofunctions", tags=["autofunctions"])


class CreateAutoFunction(BaseModel):
    description: str = Field(
        min_length=1,
        max_length=MAX_DESCRIPTION_CHARS,
        description="What the tool should do, in plain words.",
        examples=["convert a temperature from Celsius to Fahrenheit"],
    )


class AutoFunctionOut(BaseModel):
    id: str
    name: str
    function: str
    description: str
    request: str
    status: Literal["pending", "approved", "disabled"]
    source: str
    parameters: dict[str, Any]
    tests: str
    tests_passed: bool
    test_report: dict[str, Any]
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, function: AutoFunction) -> AutoFunctionOut:
        return cls.model_validate(function.to_dict())


class AutoFunctionList(BaseModel):
    autofunctions: list[AutoFunctionOut]


@router.post(
    "", status_code=201, summary="Have the LLM write a tool; it is checked, tested, and left pending"
)
async def create_autofunction(body: CreateAutoFunction, service: Service) -> AutoFunctionOut:
    return AutoFunctionOut.of(await service.create(body.description))


@router.get("", summary="Every generated tool, oldest first")
async def list_autofunctions(service: Service) -> AutoFunctionList:
    return AutoFunctionList(autofunctions=[AutoFunctionOut.of(function) for function in await service.all()])


@router.get("/{function_id}", summary="One generated tool, with its source and test report")
async def get_autofunction(function_id: str, service: Service) -> AutoFunctionOut:
    return AutoFunctionOut.of(await service.get(function_id))


@router.post(
    "/{function_id}/approve", dependencies=admin_only, summary="Admin: make the tool live for the agent"
)
async def approve_autofunction(function_id: str, service: Service) -> AutoFunctionOut:
    return AutoFunctionOut.of(await service.approve(function_id))


@router.post("/{function_id}/disable", dependencies=admin_only, summary="Take the tool out of the agent")
async def disable_autofunction(function_id: str, service: Service) -> AutoFunctionOut:
    return AutoFunctionOut.of(await service.disable(function_id))


@router.delete("/{function_id}", status_code=204, dependencies=admin_only, summary="Delete the tool")
async def delete_autofunction(function_id: str, service: Service) -> Response:
    await service.delete(function_id)
    return Response(status_code=204)
