"""Placeholder: the paylican sandbox router is being written."""

from __future__ import annotations

from fastapi import APIRouter

from paycert.sandbox.state import SandboxState

PREFIX = "/paylican"
CREDENTIALS: dict[str, str] = {}


def build_router(state: SandboxState) -> APIRouter:
    return APIRouter()
