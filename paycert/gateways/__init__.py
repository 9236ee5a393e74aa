"""The generic gateway client: one implementation, driven by a gateway's profile and spec."""

from __future__ import annotations

from paycert.gateways.client import ApiResult, GatewayClient, Payment
from paycert.gateways.http import GatewayHttp, Recorder

__all__ = ["ApiResult", "GatewayClient", "GatewayHttp", "Payment", "Recorder"]
